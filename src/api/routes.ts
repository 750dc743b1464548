import { type IncomingMessage, METHODS, type ServerResponse } from "node:http";
import type { CustomRoute } from "@slack/bolt";
import { cancelRequest } from "../approvals/cancel-request.ts";
import { createRequest } from "../approvals/create-request.ts";
import type { Deps } from "../approvals/deps.ts";
import { type GetResult, getRequest, waitForDecision } from "../approvals/get-request.ts";
import { listEvents } from "../approvals/list-events.ts";
import { listQuerySchema, listRequests } from "../approvals/list-requests.ts";
import { reportOutcome } from "../approvals/report-outcome.ts";
import { cancelBodySchema, createRequestBodySchema, outcomeBodySchema } from "../approvals/request-body.ts";
import { callbackUrlProblem } from "../callbacks/target.ts";
import type { Agent } from "../config/file.ts";
import { isUnavailable, StoreUnavailable } from "../db/group-commit.ts";
import { createAuthenticator } from "./auth.ts";
import { ApiError, statusOf } from "./errors.ts";
import { issuesOf, parseWith, readJson, sendError, sendJson } from "./http.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { idempotencyKeySchema, REQUEST_ID_PATTERN, waitSchema } from "./parameters.ts";

export const JWKS_PATH = "/.well-known/jwks.json";
export const OPENAPI_PATH = "/openapi.json";
/** How long gateways may cache the JWKS. */
export const JWKS_MAX_AGE_S = 300;

export interface ApiOptions {
  /** Aborted once shutdown began: long-polls answer at once. */
  stopping: AbortSignal;
  /** Called after a verb may have queued Slack side effects or callbacks. */
  afterChange: () => void;
}

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  agent: Agent,
  id: string | null,
  url: URL,
) => Promise<void>;

/**
 * The agent API as Bolt custom routes on the same listener as /slack/events.
 * Routers only authenticate, validate, call a verb and map its result.
 */
export function createApiRoutes(deps: Deps, options: ApiOptions): CustomRoute[] {
  const authenticate = createAuthenticator(deps.config.agents);
  const targetPolicy = { allowPrivate: deps.config.callbacks.allow_private_targets };

  const create: Handler = async (req, res, agent) => {
    const keyHeader = req.headers["idempotency-key"];
    let key: string | null = null;
    if (keyHeader !== undefined) {
      const parsed = idempotencyKeySchema.safeParse(keyHeader);
      if (!parsed.success) {
        throw new ApiError("invalid_request", "Idempotency-Key header is invalid", [
          { path: "Idempotency-Key", message: parsed.error.issues[0]?.message ?? "invalid" },
        ]);
      }
      key = parsed.data;
    }
    const sent = await readJson(req);
    const body = parseWith(createRequestBodySchema, sent);
    if (body.callback_url !== undefined) {
      const problem = await callbackUrlProblem(body.callback_url, targetPolicy);
      if (problem !== null) {
        throw new ApiError("invalid_request", `callback_url ${problem}`, [
          { path: "callback_url", message: problem },
        ]);
      }
    }
    const result = await createRequest(deps, agent, body, key === null ? null : { key, sent });
    switch (result.kind) {
      case "created":
        return sendJson(res, 201, result.resource, { location: `/v1/requests/${result.resource.id}` });
      case "replayed":
        return sendJson(res, 200, result.resource, { "idempotent-replayed": "true" });
      case "idempotency_conflict":
        throw new ApiError(
          "idempotency_conflict",
          "this Idempotency-Key was already used with a different request body",
        );
      case "no_matching_policy":
        throw new ApiError(
          "no_matching_policy",
          `no policy matches action "${body.action}"; nothing was stored`,
        );
      case "callback_not_allowed":
        throw new ApiError("invalid_request", result.message, [
          { path: "callback_url", message: result.message },
        ]);
      case "invalid_revises":
        throw new ApiError("invalid_request", result.message, [{ path: "revises", message: result.message }]);
    }
  };

  const list: Handler = async (_req, res, { id: agentId }, _id, url) => {
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const parsed = listQuerySchema.safeParse(query);
    if (!parsed.success) throw new ApiError("invalid_request", "query is invalid", issuesOf(parsed.error));
    sendJson(res, 200, await listRequests(deps, agentId, parsed.data));
  };

  const get: Handler = async (_req, res, { id: agentId }, id, url) => {
    const wait = url.searchParams.get("wait");
    let waitSeconds = 0;
    if (wait !== null) {
      const parsed = waitSchema.safeParse(wait);
      if (!parsed.success) {
        throw new ApiError("invalid_request", "wait must be a whole number of seconds from 1 to 60", [
          { path: "wait", message: parsed.error.issues[0]?.message ?? "invalid" },
        ]);
      }
      waitSeconds = parsed.data;
    }
    const requestId = validId(id);
    let result: GetResult;
    if (waitSeconds === 0) result = await getRequest(deps, agentId, requestId);
    else {
      const closed = new AbortController();
      const onClose = () => closed.abort();
      res.on("close", onClose);
      const signal = AbortSignal.any([closed.signal, options.stopping]);
      result = await waitForDecision(deps, agentId, requestId, waitSeconds * 1000, signal);
      res.off("close", onClose);
      // The agent hung up: nobody to answer.
      if (closed.signal.aborted) return;
    }
    if (result.kind === "not_found") throw notFound(id);
    sendJson(res, 200, result.resource);
  };

  const cancel: Handler = async (req, res, { id: agentId }, id) => {
    const body = parseWith(cancelBodySchema, await readJson(req, { emptyOk: true }));
    const result = await cancelRequest(deps, agentId, validId(id), body.reason ?? null);
    switch (result.kind) {
      case "cancelled":
        return sendJson(res, 200, result.resource);
      case "not_found":
        throw notFound(id);
      case "conflict":
        throw new ApiError(
          "conflict",
          `only a pending request can be cancelled; this one is ${result.resource.status}`,
        );
    }
  };

  const outcome: Handler = async (req, res, { id: agentId }, id) => {
    const body = parseWith(outcomeBodySchema, await readJson(req));
    const result = await reportOutcome(deps, agentId, validId(id), body);
    switch (result.kind) {
      case "recorded":
        return sendJson(res, 200, result.resource);
      case "not_found":
        throw notFound(id);
      case "conflict":
        throw new ApiError("conflict", result.message);
    }
  };

  const events: Handler = async (_req, res, { id: agentId }, id) => {
    const result = await listEvents(deps, agentId, validId(id));
    switch (result.kind) {
      case "found":
        return sendJson(res, 200, result.events);
      case "not_found":
        throw notFound(id);
    }
  };

  const notFound = (id: string | null) => new ApiError("not_found", `request ${id ?? ""} not found`);
  /** A malformed id cannot name a request: not found, without asking the database. */
  const validId = (id: string | null): string => {
    if (id === null || !REQUEST_ID_PATTERN.test(id)) throw notFound(id);
    return id;
  };

  const dispatch = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = url.pathname.split("/").filter(Boolean); // ["v1", "requests", id?, verb?]
    let route = "unknown";
    try {
      const method = req.method ?? "GET";
      const [v1, collection, id = null, verb = null, ...rest] = parts;
      if (v1 !== "v1" || collection !== "requests" || rest.length > 0) {
        throw new ApiError("not_found", `no such endpoint: ${method} ${url.pathname}`);
      }
      const handler = pick(method, id, verb);
      route = `${method} /v1/requests${id === null ? "" : "/:id"}${verb === null ? "" : `/${verb}`}`;
      if (handler === "404") throw new ApiError("not_found", `no such endpoint: ${method} ${url.pathname}`);
      if (typeof handler === "string") {
        // RFC 9110: a 405 names the methods the resource does allow.
        res.setHeader("allow", handler);
        throw new ApiError(
          "method_not_allowed",
          `${method} is not allowed on ${url.pathname}; use ${handler}`,
        );
      }
      const agent = authenticate(req);
      await handler(req, res, agent, id, url);
      if (method === "POST") options.afterChange();
      deps.metrics.apiResponse(route, res.statusCode);
    } catch (error) {
      if (error instanceof ApiError) {
        if (!res.headersSent) sendError(res, error);
        deps.metrics.apiResponse(route, statusOf(error.code));
        return;
      }
      if (isUnavailable(error)) {
        // Nothing was stored: the agent may retry (Retry-After), the contract's 503.
        deps.log.warn({ err: error, method: req.method, path: url.pathname }, "database unavailable");
        if (!res.headersSent) sendError(res, new ApiError("unavailable", unavailableMessage(error)));
        deps.metrics.apiResponse(route, 503);
        return;
      }
      deps.log.error({ err: error, method: req.method, path: url.pathname }, "agent API request failed");
      if (!res.headersSent)
        sendError(res, new ApiError("internal_error", "internal error; see the server log"));
      deps.metrics.apiResponse(route, 500);
    }
  };

  /** The handler, "404" for no such endpoint, or the allowed methods (for a 405). */
  const pick = (
    method: string,
    id: string | null,
    verb: string | null,
  ): Handler | "404" | "GET" | "POST" | "GET, POST" => {
    if (id === null) return method === "POST" ? create : method === "GET" ? list : "GET, POST";
    if (verb === null) return method === "GET" ? get : "GET";
    if (verb === "cancel") return method === "POST" ? cancel : "POST";
    if (verb === "outcome") return method === "POST" ? outcome : "POST";
    if (verb === "events") return method === "GET" ? events : "GET";
    return "404";
  };

  const health = async (_req: IncomingMessage, res: ServerResponse) => {
    const problem = await healthProblem(deps);
    if (problem === null) return sendJson(res, 200, { ok: true });
    sendJson(
      res,
      503,
      { ok: false, error: { code: "unavailable", message: problem } },
      { "retry-after": "1" },
    );
  };

  /** Someone opened the base URL: say what this is and where to read more. */
  const index = (_req: IncomingMessage, res: ServerResponse) =>
    sendJson(res, 200, {
      service: "countersign",
      description: "a Slack approval gate for AI agents",
      docs: "docs/api.md (Agent API) in the countersign repository",
      endpoints: {
        requests: "/v1/requests",
        openapi: OPENAPI_PATH,
        jwks: JWKS_PATH,
        health: "/healthz",
        metrics: "/metrics",
        slack: "/slack/events",
      },
    });

  const metrics = (_req: IncomingMessage, res: ServerResponse) => {
    deps.metrics.render().then(
      (text) => {
        res.writeHead(200, { "content-type": deps.metrics.contentType });
        res.end(text);
      },
      (error: unknown) => {
        deps.log.error({ err: error }, "metrics rendering failed");
        sendError(res, new ApiError("internal_error", "metrics failed"));
      },
    );
  };

  let openApi: unknown;
  /** A document anyone may read (no auth); other methods get the same 405 as under /v1. */
  const publicDocument =
    (path: string, cacheControl: string, body: () => unknown) =>
    async (req: IncomingMessage, res: ServerResponse) => {
      const method = req.method ?? "GET";
      if (method !== "GET" && method !== "HEAD") {
        res.setHeader("allow", "GET, HEAD");
        sendError(res, new ApiError("method_not_allowed", `${method} is not allowed on ${path}; use GET`));
        return;
      }
      try {
        sendJson(res, 200, await body(), { "cache-control": cacheControl });
      } catch (error) {
        deps.log.error({ err: error, path }, "could not build a public document");
        sendError(res, new ApiError("internal_error", "internal error; see the server log"));
      }
    };

  // Every method and /v1 itself reach dispatch, so whatever an agent gets wrong under /v1 is answered in JSON.
  // Every method Node parses (PROPFIND, TRACE…), so an odd one gets a JSON 405, not Bolt's bare 404.
  const all = [...METHODS];
  return [
    {
      path: OPENAPI_PATH,
      method: all,
      handler: publicDocument(OPENAPI_PATH, "public, max-age=300", () => {
        openApi ??= buildOpenApiDocument("v1");
        return openApi;
      }),
    },
    {
      path: JWKS_PATH,
      method: all,
      // Short enough that a rotated-in key is seen within minutes; a verifier that
      // meets an unknown kid refetches at once anyway (as jose's createRemoteJWKSet does).
      handler: publicDocument(JWKS_PATH, `public, max-age=${JWKS_MAX_AGE_S}`, () =>
        deps.tokens.jwks(deps.clock.now()),
      ),
    },
    { path: "/v1", method: all, handler: (req, res) => void dispatch(req, res) },
    { path: "/v1/*rest", method: all, handler: (req, res) => void dispatch(req, res) },
    { path: "/", method: ["GET"], handler: index },
    { path: "/healthz", method: ["GET"], handler: (req, res) => void health(req, res) },
    { path: "/metrics", method: ["GET"], handler: metrics },
  ];
}

function unavailableMessage(error: unknown): string {
  const why = error instanceof StoreUnavailable ? error.message : "the database cannot store it now";
  return `${why}; nothing was stored, try again later`;
}

/** Writes that failed lately count for this long, unless one succeeds since. */
const WRITE_FAILURE_MEMORY_MS = 60_000;

/**
 * Null when the database answers reads and can take writes; otherwise why
 * not. Never waits: a foreign write lock is probed without a busy timeout.
 */
async function healthProblem(deps: Deps): Promise<string | null> {
  try {
    if (!(await deps.store.ping())) return "database did not answer";
  } catch (error) {
    deps.log.error({ err: error }, "health check: database did not answer");
    return "database did not answer";
  }
  if (!(await deps.writes.canWrite())) return "database is locked by another process; writes fail";
  const failing = deps.writes.failing;
  if (failing !== null && performance.now() - failing.at < WRITE_FAILURE_MEMORY_MS) {
    return `writes fail: ${failing.error.message}`;
  }
  return null;
}
