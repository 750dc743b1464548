import { z } from "zod";
import { LIST_DEFAULT_LIMIT, listLimitSchema, listStatusSchema } from "../approvals/list-requests.ts";
import {
  cancelBodySchema,
  createRequestBodySchema,
  outcomeBodySchema,
  paramsSchema,
} from "../approvals/request-body.ts";
import { requestResourceSchema } from "../domain/vocabulary.ts";
import { jwksSchema } from "../tokens/keys.ts";
import { API_ERROR_CODES, type ApiErrorCode, apiErrorBodySchema, statusOf } from "./errors.ts";
import { idempotencyKeySchema, requestIdSchema, waitSchema } from "./parameters.ts";

/**
 * GET /openapi.json: OpenAPI 3.1 generated from the zod schemas the API
 * validates with (request bodies, parameters) and builds its answers from
 * (the request resource, the error body, the JWKS), so the document cannot drift.
 * A new endpoint adds its entry to `paths` below.
 */

type JsonSchema = Record<string, unknown>;
const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** Components from a registry; `io` says which side of the schemas (bodies are input, answers output). */
function components(entries: [z.ZodType, string][], io: "input" | "output"): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of entries) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io,
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
    override: (ctx) => {
      // params is checked before zod parses it (see request-body.ts); to a client it is an object.
      if (ctx.zodSchema === paramsSchema) {
        for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
        Object.assign(ctx.jsonSchema, {
          type: "object",
          description: "the tool call's arguments; args_hash is computed over their RFC 8785 canonical JSON",
        });
      }
    },
  });
  // Each entry comes out as a standalone document; as a component it needs neither of these.
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return schemas as Record<string, JsonSchema>;
}

/** A parameter schema as JSON Schema (the zod input side: what a client sends). */
const parameterSchema = (schema: z.ZodType): JsonSchema => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
};

const json = (schema: JsonSchema) => ({ "application/json": { schema } });

/** Error responses grouped by status, each naming the codes it can carry. */
function errorResponses(codes: readonly ApiErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of [...codes, "unauthorized", "internal_error"] as const) {
    const status = statusOf(code);
    byStatus.set(status, [...new Set([...(byStatus.get(status) ?? []), code])]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      { description: `error code: ${list.join(", ")}`, content: json(ref("Error")) },
    ]),
  );
}

const resource = (description: string) => ({ description, content: json(ref("RequestResource")) });
const idParameter = {
  name: "id",
  in: "path",
  required: true,
  schema: parameterSchema(requestIdSchema),
};
const bodyErrors = [
  "invalid_request",
  "invalid_json",
  "payload_too_large",
  "unsupported_media_type",
] as const;

export function buildOpenApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "countersign agent API",
      version,
      description:
        "Slack approval gate for AI agents. Every /v1 call takes `Authorization: Bearer <agent token>`; an agent sees only its own requests. Refusals store nothing and share one error shape.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths: {
      "/v1/requests": {
        get: {
          operationId: "listRequests",
          summary: "The agent's own requests, newest first, a page at a time",
          parameters: [
            { name: "status", in: "query", required: false, schema: parameterSchema(listStatusSchema) },
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
          responses: {
            "200": {
              description: "A page of requests",
              content: json({
                type: "object",
                required: ["data", "next_cursor"],
                additionalProperties: false,
                properties: {
                  data: { type: "array", items: ref("RequestResource") },
                  next_cursor: { type: ["string", "null"] },
                },
              }),
            },
            ...errorResponses(["invalid_request"]),
          },
        },
        post: {
          operationId: "createRequest",
          summary: "Ask for approval; routed by policy, or decided by it at once",
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
          responses: {
            "201": {
              ...resource("Created"),
              headers: { Location: { schema: { type: "string" }, description: "/v1/requests/{id}" } },
            },
            "200": {
              ...resource("Replayed: the request first created with this Idempotency-Key"),
              headers: { "Idempotent-Replayed": { schema: { type: "string", const: "true" } } },
            },
            ...errorResponses([...bodyErrors, "idempotency_conflict", "no_matching_policy"]),
          },
        },
      },
      "/v1/requests/{id}": {
        get: {
          operationId: "getRequest",
          summary: "The request; with wait, held until it leaves pending or wait seconds pass",
          parameters: [
            idParameter,
            {
              name: "wait",
              in: "query",
              required: false,
              description: "long-poll for up to this many seconds while the request is pending",
              schema: parameterSchema(waitSchema),
            },
          ],
          responses: { "200": resource("The request"), ...errorResponses(["invalid_request", "not_found"]) },
        },
      },
      "/v1/requests/{id}/cancel": {
        post: {
          operationId: "cancelRequest",
          summary: "Pending → cancelled; anything else is a conflict",
          parameters: [idParameter],
          requestBody: { required: false, content: json(ref("CancelBody")) },
          responses: {
            "200": resource("Cancelled"),
            ...errorResponses([...bodyErrors, "not_found", "conflict"]),
          },
        },
      },
      "/v1/requests/{id}/outcome": {
        post: {
          operationId: "reportOutcome",
          summary: "What happened when the approved action ran; once, only for an approved request",
          parameters: [idParameter],
          requestBody: { required: true, content: json(ref("OutcomeBody")) },
          responses: {
            "200": resource("Recorded"),
            ...errorResponses([...bodyErrors, "not_found", "conflict"]),
          },
        },
      },
      "/.well-known/jwks.json": {
        get: {
          operationId: "getJwks",
          summary: "Public keys that verify approval tokens (no auth; cacheable)",
          security: [],
          responses: { "200": { description: "JWK Set", content: json(ref("JWKS")) } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "the agent's token from the configuration" },
      },
      schemas: {
        ...components(
          [
            [createRequestBodySchema, "CreateRequestBody"],
            [outcomeBodySchema, "OutcomeBody"],
            [cancelBodySchema, "CancelBody"],
          ],
          "input",
        ),
        ...components(
          [
            [requestResourceSchema, "RequestResource"],
            [apiErrorBodySchema, "Error"],
            [jwksSchema, "JWKS"],
          ],
          "output",
        ),
      },
    },
    "x-error-codes": API_ERROR_CODES,
  };
}
