import { consumeBodySchema, consumedSchema } from "../approvals/consume-token.ts";
import { requestEventsSchema } from "../approvals/list-events.ts";
import { LIST_DEFAULT_LIMIT, listLimitSchema, listStatusSchema } from "../approvals/list-requests.ts";
import { cancelBodySchema, createRequestBodySchema, outcomeBodySchema } from "../approvals/request-body.ts";
import { requestResourceSchema } from "../approvals/types.ts";
import { requestDecidedSchema } from "../callbacks/payload.ts";
import { jwksSchema } from "../tokens/keys.ts";
import { API_ERROR_CODES, type ApiErrorCode, apiErrorBodySchema } from "./errors.ts";
import type { Implemented } from "./methods.ts";
import {
  ALWAYS,
  ALWAYS_V1,
  components,
  errorResponses,
  HEADERS,
  header,
  headOf,
  json,
  type Operation,
  optionsOperation,
  parameterSchema,
  ref,
} from "./openapi-parts.ts";
import { idempotencyKeySchema, requestIdSchema, waitSchema } from "./parameters.ts";
import { healthFailingSchema, healthOkSchema, serviceIndexSchema } from "./service-documents.ts";

/**
 * GET /openapi.json: OpenAPI 3.1 generated from the zod schemas the API
 * validates with (request bodies, parameters) and builds its answers from
 * (the request resource, events, the error body, the JWKS, the callback
 * body), so the document cannot drift. Every path also answers HEAD (where
 * it has GET) and OPTIONS, as the service does; a new endpoint adds its
 * entry to PATHS below.
 */

const resource = (description: string) => ({ description, content: json(ref("RequestResource")) });
const idParameter = {
  name: "id",
  in: "path",
  required: true,
  description: "the request id (req_…)",
  schema: parameterSchema(requestIdSchema),
};
const bodyErrors = [
  "invalid_request",
  "invalid_json",
  "payload_too_large",
  "unsupported_media_type",
] as const satisfies readonly ApiErrorCode[];

interface Spec {
  id: string;
  tag: "requests" | "tokens" | "service";
  summary: string;
  description: string;
  public?: boolean;
  parameters?: unknown[];
  requestBody?: unknown;
  ok: Record<string, unknown>;
  errors?: readonly ApiErrorCode[];
}

function operation(spec: Spec): Operation {
  const always = spec.public ? ALWAYS : ALWAYS_V1;
  return {
    operationId: spec.id,
    summary: spec.summary,
    description: spec.description,
    tags: [spec.tag],
    ...(spec.public ? { security: [] } : {}),
    ...(spec.parameters ? { parameters: spec.parameters } : {}),
    ...(spec.requestBody ? { requestBody: spec.requestBody } : {}),
    responses: { ...spec.ok, ...errorResponses([...(spec.errors ?? []), ...always]) },
  };
}

/** A path item: its operations plus HEAD for GET and OPTIONS, as the service answers them. */
function pathItem(name: string, ops: { get?: Spec; post?: Spec }, byId = false): Record<string, unknown> {
  const item: Record<string, Operation> = {};
  const methods: ("GET" | "POST")[] = [];
  if (ops.get) {
    item.get = operation(ops.get);
    item.head = headOf(item.get, name);
    methods.push("GET");
  }
  if (ops.post) {
    item.post = operation(ops.post);
    methods.push("POST");
  }
  item.options = optionsOperation(name, methods satisfies Implemented);
  return byId ? { parameters: [idParameter], ...item } : item;
}

const cacheable = (description: string, schema: string) => ({
  description,
  headers: { "Cache-Control": header("Cache-Control") },
  content: json(ref(schema)),
});

const PATHS = {
  "/v1/requests": pathItem("Requests", {
    get: {
      id: "listRequests",
      tag: "requests",
      summary: "The agent's own requests, newest first, a page at a time",
      description: "Pass next_cursor back as cursor for the next page; null when there is none.",
      parameters: [
        {
          name: "status",
          in: "query",
          required: false,
          description: "only requests in this status",
          schema: parameterSchema(listStatusSchema),
        },
        {
          name: "limit",
          in: "query",
          required: false,
          description: `requests per page (default ${LIST_DEFAULT_LIMIT})`,
          schema: parameterSchema(listLimitSchema),
        },
        {
          name: "cursor",
          in: "query",
          required: false,
          description: "next_cursor of the previous page",
          schema: { type: "string" },
        },
      ],
      ok: { "200": { description: "A page of requests", content: json(ref("RequestPage")) } },
      errors: ["invalid_request"],
    },
    post: {
      id: "createRequest",
      tag: "requests",
      summary: "Ask for approval; routed by policy, or decided by it at once",
      description:
        "The first matching policy decides: approve or reject at once, or post the evidence pack to a role's Slack channel. Nothing is stored when the request is refused.",
      parameters: [
        {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description:
            "The same key with the same body returns the first result (200) and creates nothing; with another body: idempotency_conflict",
          schema: parameterSchema(idempotencyKeySchema),
        },
      ],
      requestBody: { required: true, content: json(ref("CreateRequestBody")) },
      ok: {
        "201": {
          ...resource("Created"),
          headers: { Location: { description: "/v1/requests/{id}", schema: { type: "string" } } },
        },
        "200": {
          ...resource("Replayed: the request first created with this Idempotency-Key"),
          headers: {
            "Idempotent-Replayed": {
              description: "present on a replay",
              schema: { type: "string", const: "true" },
            },
          },
        },
      },
      errors: [...bodyErrors, "idempotency_conflict", "no_matching_policy"],
    },
  }),
  "/v1/requests/{id}": pathItem(
    "Request",
    {
      get: {
        id: "getRequest",
        tag: "requests",
        summary: "The request; with wait, held until it leaves pending or wait seconds pass",
        description:
          "A long-poll answers as soon as the status changes, or after wait seconds with the request as it is.",
        parameters: [
          {
            name: "wait",
            in: "query",
            required: false,
            description: "long-poll for up to this many seconds while the request is pending",
            schema: parameterSchema(waitSchema),
          },
        ],
        ok: { "200": resource("The request") },
        errors: ["invalid_request", "not_found"],
      },
    },
    true,
  ),
  "/v1/requests/{id}/events": pathItem(
    "RequestEvents",
    {
      get: {
        id: "listRequestEvents",
        tag: "requests",
        summary: "The request's audit events, oldest first",
        description:
          "Every event of the hash-chained audit log for this request (created, routed, posted, votes, decision, callbacks, outcome…).",
        ok: { "200": { description: "The events in order", content: json(ref("RequestEvents")) } },
        errors: ["not_found"],
      },
    },
    true,
  ),
  "/v1/requests/{id}/cancel": pathItem(
    "CancelRequest",
    {
      post: {
        id: "cancelRequest",
        tag: "requests",
        summary: "Pending → cancelled; anything else is a conflict",
        description: "The Slack message says so and the callback is sent. The body is optional.",
        requestBody: { required: false, content: json(ref("CancelBody")) },
        ok: { "200": resource("Cancelled") },
        errors: [...bodyErrors, "not_found", "conflict"],
      },
    },
    true,
  ),
  "/v1/requests/{id}/outcome": pathItem(
    "ReportOutcome",
    {
      post: {
        id: "reportOutcome",
        tag: "requests",
        summary: "What happened when the approved action ran; once, only for an approved request",
        description: "Stored as outcome, shown on the Slack message and audited.",
        requestBody: { required: true, content: json(ref("OutcomeBody")) },
        ok: { "200": resource("Recorded") },
        errors: [...bodyErrors, "not_found", "conflict"],
      },
    },
    true,
  ),
  "/v1/requests/{id}/token": pathItem(
    "ReissueToken",
    {
      post: {
        id: "reissueToken",
        tag: "tokens",
        summary: "A fresh approval token for an approved request whose action has not run",
        description:
          "Same claims, new iat, exp and jti; the token it replaces can no longer be consumed. Refused (409 conflict) unless the request is approved with no outcome reported, and (409 token_used) once its token was consumed. No body. Audited as token_reissued.",
        ok: { "200": resource("The request with its new approval_token") },
        errors: [...bodyErrors, "not_found", "conflict", "token_used"],
      },
    },
    true,
  ),
  "/v1/tokens/consume": pathItem("ConsumeToken", {
    post: {
      id: "consumeToken",
      tag: "tokens",
      summary: "Single use: the first call with a token's jti wins, on every replica",
      description:
        "A gateway verifies the token (signature, exp, aud, act, args_hash), then consumes its jti before it runs the action. countersign does not look the jti up: verify first.",
      requestBody: { required: true, content: json(ref("ConsumeBody")) },
      ok: { "200": { description: "Consumed by this call", content: json(ref("Consumed")) } },
      errors: [...bodyErrors, "token_used"],
    },
  }),
  "/.well-known/jwks.json": pathItem("Jwks", {
    get: {
      id: "getJwks",
      tag: "tokens",
      public: true,
      summary: "Public keys that verify approval tokens (no auth; cacheable)",
      description: "A rotated-out key stays here until every token it signed has expired.",
      ok: { "200": cacheable("JWK Set", "JWKS") },
    },
  }),
  "/openapi.json": pathItem("OpenApi", {
    get: {
      id: "getOpenApi",
      tag: "service",
      public: true,
      summary: "This document",
      description: "OpenAPI 3.1, generated from the schemas the service validates with.",
      ok: {
        "200": {
          description: "The OpenAPI document",
          headers: { "Cache-Control": header("Cache-Control") },
          content: json({ type: "object" }),
        },
      },
    },
  }),
  "/healthz": pathItem("Health", {
    get: {
      id: "getHealth",
      tag: "service",
      public: true,
      summary: "200 when the database answers and takes writes",
      description: "For load balancers and uptime monitors (HEAD works too).",
      ok: {
        "200": { description: "Healthy", content: json(ref("HealthOk")) },
        "503": {
          description: "The database does not answer or cannot take writes",
          headers: { "Retry-After": header("Retry-After") },
          content: json(ref("HealthFailing")),
        },
      },
    },
  }),
  "/metrics": pathItem("Metrics", {
    get: {
      id: "getMetrics",
      tag: "service",
      public: true,
      summary: "Prometheus metrics (text exposition format)",
      description: "Request counts by status, time to decision, queue depths, API responses.",
      ok: {
        "200": {
          description: "Prometheus text",
          content: { "text/plain": { schema: { type: "string" } } },
        },
      },
    },
  }),
  "/": pathItem("Index", {
    get: {
      id: "getIndex",
      tag: "service",
      public: true,
      summary: "What this service is and where its endpoints are",
      description: "For a person who opened the base URL.",
      ok: { "200": { description: "The service index", content: json(ref("ServiceIndex")) } },
    },
  }),
};

/** Standard Webhooks headers on every callback. */
const WEBHOOK_HEADERS = [
  ["webhook-id", "the message id (msg_…), the same on every retry: deduplicate on it"],
  ["webhook-timestamp", "seconds since the epoch when this attempt was signed"],
  ["webhook-signature", 'v1,<base64 HMAC-SHA256 over "id.timestamp.body" with the agent\'s callback_secret>'],
].map(([name, description]) => ({
  name,
  in: "header",
  required: true,
  description,
  schema: { type: "string" },
}));

const WEBHOOKS = {
  "request.decided": {
    post: {
      operationId: "requestDecided",
      summary: "A request reached its final status (sent to its callback_url)",
      description:
        "Signed the Standard Webhooks way. Retried with backoff for up to 3 days until a 2xx; a 410 stops the retries. Survives restarts.",
      tags: ["webhooks"],
      security: [],
      parameters: WEBHOOK_HEADERS,
      requestBody: { required: true, content: json(ref("RequestDecided")) },
      responses: {
        "200": { description: "Any 2xx: delivered" },
        "410": { description: "Gone: countersign stops retrying this delivery" },
      },
    },
  },
};

export function buildOpenApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "countersign agent API",
      version,
      summary: "Slack approval gate for AI agents",
      description:
        "Every /v1 call takes `Authorization: Bearer <agent token>`; an agent sees only its own requests. Refusals store nothing and share one error shape. Every path answers HEAD where it has GET, and OPTIONS (204 with Allow); any other method gets a 405 with Allow, an unknown path a 404, both in the error shape.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/", description: "this countersign instance" }],
    security: [{ bearer: [] }],
    tags: [
      { name: "requests", description: "Approval requests of the calling agent" },
      { name: "tokens", description: "Approval tokens: keys, re-issue, single use" },
      { name: "service", description: "Health, metrics and discovery (no auth)" },
      { name: "webhooks", description: "Callbacks countersign sends to an agent's callback_url" },
    ],
    paths: PATHS,
    webhooks: WEBHOOKS,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "the agent's token from the configuration" },
      },
      headers: HEADERS,
      schemas: {
        ...components(
          [
            [createRequestBodySchema, "CreateRequestBody"],
            [outcomeBodySchema, "OutcomeBody"],
            [cancelBodySchema, "CancelBody"],
            [consumeBodySchema, "ConsumeBody"],
          ],
          "input",
        ),
        ...components(
          [
            [requestResourceSchema, "RequestResource"],
            [requestEventsSchema, "RequestEvents"],
            [consumedSchema, "Consumed"],
            [apiErrorBodySchema, "Error"],
            [jwksSchema, "JWKS"],
            [requestDecidedSchema, "RequestDecided"],
            [healthOkSchema, "HealthOk"],
            [healthFailingSchema, "HealthFailing"],
            [serviceIndexSchema, "ServiceIndex"],
          ],
          "output",
        ),
        RequestPage: {
          type: "object",
          required: ["data", "next_cursor"],
          additionalProperties: false,
          properties: {
            data: { type: "array", items: ref("RequestResource") },
            next_cursor: { type: ["string", "null"] },
          },
        },
      },
    },
    "x-error-codes": API_ERROR_CODES,
  };
}
