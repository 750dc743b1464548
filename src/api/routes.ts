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
import { isUnavailable, StoreUnavailable } from "../storage/unavailable.ts";
import { createAuthenticator } from "./auth.ts";
import { ApiError, statusOf } from "./errors.ts";
import { issuesOf, parseWith, readJson, sendError, sendJson } from "./http.ts";
import { answerOptions, methodNotAllowed, methodOf, resolveMethod } from "./methods.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { idempotencyKeySchema, REQUEST_ID_PATTERN, waitSchema } from "./parameters.ts";
import type { ServiceIndex } from "./service-documents.ts";
import { createTokenRoutes } from "./token-routes.ts";

export const JWKS_PATH = "/.well-known/jwks.json";
export const OPENAPI_PATH = "/openapi.json";
/** How long gateways may cache the JWKS. */
export const JWKS_MAX_AGE_S = 300;

export interface ApiOptions {
  /** Aborted once shutdown began: long-polls answer at once. */
  stopping: AbortSignal;
  /** Called after a verb may have queued Slack side effects or callbacks. */
  afterChange: () => void;
  /** Paths where Slack posts (HTTP mode; none in Socket Mode): other methods there get a 405. */
  slackEndpoints: readonly string[];
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

  const tokenRoutes = createTokenRoutes(deps, {
    notFound: (id) => notFound(id),
    validId: (id) => validId(id),
  });

  const notFound = (id: string | null) => new ApiError("not_found", `request ${id ?? ""} not found`);
  /** A malformed id cannot name a request: not found, without asking the database. */
  const validId = (id: string | null): string => {
    if (id === null || !REQUEST_ID_PATTERN.test(id)) throw notFound(id);
    return id;
  };

  /** /v1 resources by shape: the handler of each method they implement. */
  const resources: Record<string, Partial<Record<"GET" | "POST", Handler>>> = {
    "/v1/requests": { GET: list, POST: create },
    "/v1/requests/:id": { GET: get },
    "/v1/requests/:id/cancel": { POST: cancel },
    "/v1/requests/:id/outcome": { POST: outcome },
    "/v1/requests/:id/events": { GET: events },
    "/v1/requests/:id/token": { POST: tokenRoutes.reissue },
    "/v1/tokens/consume": { POST: tokenRoutes.consume },
  };
  /** The resource a path names (its shape and request id), or null for no such endpoint. */
  const resourceOf = (pathname: string): { shape: string; id: string | null } | null => {
    const [v1, collection, id = null, verb = null, ...rest] = pathname.split("/").filter(Boolean);
    if (v1 !== "v1" || rest.length > 0) return null;
    if (collection === "tokens")
      return id === "consume" && verb === null ? { shape: "/v1/tokens/consume", id: null } : null;
    if (collection !== "requests") return null;
    const shape = `/v1/requests${id === null ? "" : "/:id"}${verb === null ? "" : `/${verb}`}`;
    return shape in resources ? { shape, id } : null;
  };

  const dispatch = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    let route = "unknown";
    try {
      const method = methodOf(req);
      const found = resourceOf(url.pathname);
      if (found === null) throw new ApiError("not_found", `no such endpoint: ${method} ${url.pathname}`);
      const handlers = resources[found.shape] ?? {};
      const implemented = Object.keys(handlers) as ("GET" | "POST")[];
      const resolved = resolveMethod(method, implemented);
      route = `${resolved.kind === "run" ? resolved.as : method} ${found.shape}`;
      if (resolved.kind === "options") {
        answerOptions(res, implemented);
        deps.metrics.apiResponse(route, 204);
        return;
      }
      if (resolved.kind === "not_allowed") throw methodNotAllowed(res, method, url.pathname, implemented);
      const handler = handlers[resolved.as] as Handler;
      const agent = authenticate(req);
      await handler(req, res, agent, found.id, url);
      if (resolved.as === "POST") options.afterChange();
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
    } satisfies ServiceIndex);

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
  /** A document anyone may read (no auth). */
  const publicDocument =
    (path: string, cacheControl: string, body: () => unknown) =>
    async (_req: IncomingMessage, res: ServerResponse) => {
      try {
        sendJson(res, 200, await body(), { "cache-control": cacheControl });
      } catch (error) {
        deps.log.error({ err: error, path }, "could not build a public document");
        sendError(res, new ApiError("internal_error", "internal error; see the server log"));
      }
    };

  // Every method Node parses (PROPFIND, TRACE…) reaches a handler, so whatever a
  // client gets wrong is answered in JSON, never with Bolt's bare 404.
  const all = [...METHODS];
  const v1 = (req: IncomingMessage, res: ServerResponse) => void dispatch(req, res);
  return [
    resource(OPENAPI_PATH, {
      GET: publicDocument(OPENAPI_PATH, "public, max-age=300", () => {
        openApi ??= buildOpenApiDocument("v1");
        return openApi;
      }),
    }),
    resource(JWKS_PATH, {
      // Short enough that a rotated-in key is seen within minutes; a verifier that
      // meets an unknown kid refetches at once anyway (as jose's createRemoteJWKSet does).
      GET: publicDocument(JWKS_PATH, `public, max-age=${JWKS_MAX_AGE_S}`, () =>
        deps.tokens.jwks(deps.clock.now()),
      ),
    }),
    { path: "/v1", method: all, handler: v1 },
    { path: "/v1/*rest", method: all, handler: v1 },
    resource("/", { GET: index }),
    resource("/healthz", { GET: (req, res) => void health(req, res) }),
    resource("/metrics", { GET: metrics }),
    // Slack posts here (HTTP mode): the receiver takes every POST before custom routes are tried,
    // so this POST handler never runs; the entry gives the other methods their 405 and OPTIONS.
    ...options.slackEndpoints.map((path) =>
      resource(path, {
        POST: (_req, res) => sendError(res, new ApiError("internal_error", "Slack endpoint not wired")),
      }),
    ),
    // Last: every other path, whatever the method.
    {
      path: "/*rest",
      method: all,
      handler: (req, res) => {
        const url = new URL(req.url ?? "/", "http://localhost");
        sendError(res, new ApiError("not_found", `no such endpoint: ${methodOf(req)} ${url.pathname}`));
      },
    },
  ];
}

/**
 * A Bolt custom route for one path that takes every method: the ones given
 * run their handler (HEAD runs GET), OPTIONS answers 204 with Allow, any other is a JSON 405.
 */
function resource(
  path: string,
  handlers: Partial<Record<"GET" | "POST", (req: IncomingMessage, res: ServerResponse) => unknown>>,
): CustomRoute {
  const implemented = Object.keys(handlers) as ("GET" | "POST")[];
  return {
    path,
    method: [...METHODS],
    handler: (req, res) => {
      const method = methodOf(req);
      const resolved = resolveMethod(method, implemented);
      if (resolved.kind === "options") return answerOptions(res, implemented);
      if (resolved.kind === "not_allowed") {
        req.resume();
        return sendError(res, methodNotAllowed(res, method, path, implemented));
      }
      handlers[resolved.as]?.(req, res);
    },
  };
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
