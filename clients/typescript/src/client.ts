import { CountersignApiError, CountersignConnectionError } from "./errors.ts";
import type {
  ApiErrorBody,
  AuditEvent,
  ConsumedToken,
  CreateRequestBody,
  OutcomeBody,
  RequestResource,
  RequestStatus,
} from "./types.ts";

export interface ClientOptions {
  /** countersign's base URL, e.g. `http://localhost:3000`. */
  baseUrl: string | URL;
  /** The agent's bearer token. */
  token: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
  /** Gives up on a call that has not answered after this long (a long-poll adds its wait). Default 30 s. */
  timeoutMs?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface CreateOptions extends CallOptions {
  /** The same key with the same body returns the first result and creates nothing new. */
  idempotencyKey?: string;
}

export interface CreateResult {
  request: RequestResource;
  /** True when an earlier call with the same Idempotency-Key created it. */
  replayed: boolean;
}

export interface ListOptions extends CallOptions {
  /** Only requests in this status. */
  status?: RequestStatus;
  /** Page size, 1–100 (the service's default is 20). */
  limit?: number;
  /** The previous page's `next_cursor`. */
  cursor?: string;
}

/** One page of `GET /v1/requests`, newest first; `next_cursor` is `null` on the last page. */
export interface RequestPage {
  data: RequestResource[];
  next_cursor: string | null;
}

export interface GetOptions extends CallOptions {
  /** Hold the answer up to this many seconds (1–60) until the request leaves `pending`. */
  wait?: number;
}

/** A typed client for countersign's `/v1` agent API. */
export class CountersignClient {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.baseUrl = String(options.baseUrl).replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * `POST /v1/requests`. Answers `{ request, replayed }`: the request resource,
   * and whether an earlier call with the same `idempotencyKey` created it.
   */
  async createRequest(body: CreateRequestBody, options: CreateOptions = {}): Promise<CreateResult> {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
    const { json, status } = await this.#call<RequestResource>("POST", "/v1/requests", {
      body,
      headers,
      signal: options.signal,
    });
    return { request: json, replayed: status === 200 };
  }

  /** `GET /v1/requests`: one page of this agent's own requests, newest first. */
  async listRequests(options: ListOptions = {}): Promise<RequestPage> {
    const query = new URLSearchParams();
    if (options.status !== undefined) query.set("status", options.status);
    if (options.limit !== undefined) {
      if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 100) {
        throw new RangeError("limit must be a whole number from 1 to 100");
      }
      query.set("limit", String(options.limit));
    }
    if (options.cursor !== undefined) query.set("cursor", options.cursor);
    const search = query.size > 0 ? `?${query}` : "";
    const { json } = await this.#call<RequestPage>("GET", `/v1/requests${search}`, {
      signal: options.signal,
    });
    return json;
  }

  /** Every request `listRequests` would page through, newest first, fetched a page at a time. */
  async *requests(options: Omit<ListOptions, "cursor"> = {}): AsyncGenerator<RequestResource> {
    let cursor: string | undefined;
    do {
      const page = await this.listRequests(cursor === undefined ? options : { ...options, cursor });
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** `GET /v1/requests/:id`, optionally long-polling with `wait`. */
  async getRequest(id: string, options: GetOptions = {}): Promise<RequestResource> {
    const wait = options.wait ?? 0;
    if (!Number.isInteger(wait) || wait < 0 || wait > 60) {
      throw new RangeError("wait must be a whole number of seconds from 0 to 60");
    }
    const query = wait > 0 ? `?wait=${wait}` : "";
    const { json } = await this.#call<RequestResource>(
      "GET",
      `/v1/requests/${encodeURIComponent(id)}${query}`,
      {
        signal: options.signal,
        extraTimeoutMs: wait * 1000,
      },
    );
    return json;
  }

  /** `POST /v1/requests/:id/cancel`: pending → cancelled; otherwise a `conflict` error. */
  async cancelRequest(id: string, options: CallOptions & { reason?: string } = {}): Promise<RequestResource> {
    const body = options.reason === undefined ? {} : { reason: options.reason };
    const { json } = await this.#call<RequestResource>(
      "POST",
      `/v1/requests/${encodeURIComponent(id)}/cancel`,
      {
        body,
        signal: options.signal,
      },
    );
    return json;
  }

  /** `POST /v1/requests/:id/outcome`, once, for an approved request. */
  async reportOutcome(id: string, outcome: OutcomeBody, options: CallOptions = {}): Promise<RequestResource> {
    const { json } = await this.#call<RequestResource>(
      "POST",
      `/v1/requests/${encodeURIComponent(id)}/outcome`,
      {
        body: outcome,
        signal: options.signal,
      },
    );
    return json;
  }

  /** `GET /v1/requests/:id/events`: the request's audit events in order. */
  async listEvents(id: string, options: CallOptions = {}): Promise<AuditEvent[]> {
    const { json } = await this.#call<AuditEvent[]>("GET", `/v1/requests/${encodeURIComponent(id)}/events`, {
      signal: options.signal,
    });
    return json;
  }

  /**
   * `POST /v1/requests/:id/token`: a fresh approval token (same claims, new
   * iat/exp/jti) for an approved request whose action has not run; the one it
   * replaces can no longer be consumed. Errors: `conflict`, `token_used`.
   */
  async reissueToken(id: string, options: CallOptions = {}): Promise<RequestResource> {
    const { json } = await this.#call<RequestResource>(
      "POST",
      `/v1/requests/${encodeURIComponent(id)}/token`,
      {
        signal: options.signal,
      },
    );
    return json;
  }

  /**
   * `POST /v1/tokens/consume`: single use of a verified token, by its jti. The
   * first call wins on every replica; later ones fail with `token_used` (409).
   */
  async consumeToken(jti: string, options: CallOptions = {}): Promise<ConsumedToken> {
    const { json } = await this.#call<ConsumedToken>("POST", "/v1/tokens/consume", {
      body: { jti },
      signal: options.signal,
    });
    return json;
  }

  /** The URL of the service's public keys (`GET /.well-known/jwks.json`, no auth). */
  get jwksUrl(): URL {
    return new URL(`${this.baseUrl}/.well-known/jwks.json`);
  }

  async #call<T>(
    method: string,
    path: string,
    options: {
      body?: unknown;
      headers?: Record<string, string>;
      signal?: AbortSignal | undefined;
      extraTimeoutMs?: number;
    },
  ): Promise<{ json: T; status: number }> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      accept: "application/json",
      ...options.headers,
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const timeout = AbortSignal.timeout(this.#timeoutMs + (options.extraTimeoutMs ?? 0));
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        signal,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      text = await res.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const why = timeout.aborted
        ? "timed out"
        : error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      throw new CountersignConnectionError(`${method} ${this.baseUrl}${path} failed: ${why}`, {
        cause: error,
      });
    }
    let json: unknown;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.ok && json !== undefined) return { json: json as T, status: res.status };
    const error = (json as Partial<ApiErrorBody> | undefined)?.error;
    const retryAfter = Number(res.headers.get("retry-after"));
    throw new CountersignApiError(
      typeof error?.code === "string" ? error.code : `http_${res.status}`,
      typeof error?.message === "string"
        ? error.message
        : `${method} ${path} answered ${res.status} ${res.statusText}`.trim(),
      res.status,
      Array.isArray(error?.issues) ? error.issues : [],
      Number.isFinite(retryAfter) && res.headers.has("retry-after") ? retryAfter : null,
    );
  }
}

/** Errors worth retrying: the service is restarting, overloaded or unreachable. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof CountersignConnectionError) return true;
  return error instanceof CountersignApiError && (error.status >= 500 || error.status === 429);
}
