import { createHash } from "node:crypto";
import type { JSONWebKeySet } from "jose";
import { canonicalJson } from "./canonical.ts";
import { CountersignClient, isRetryable } from "./client.ts";
import {
  ApprovalAlreadyUsedError,
  ApprovalCancelledError,
  ApprovalError,
  ApprovalExpiredError,
  ApprovalRejectedError,
  ApprovalTokenError,
  ChangesRequestedError,
  CountersignApiError,
  CountersignConnectionError,
} from "./errors.ts";
import type { ApprovalClaims, CreateRequestBody, RequestResource } from "./types.ts";
import { verifyApprovalToken } from "./verify-token.ts";

export interface GuardOptions {
  /** A client for the service; or give `baseUrl` and `token`. */
  client?: CountersignClient;
  baseUrl?: string | URL;
  token?: string;
  /**
   * Tells apart two steps that send the same body on purpose (e.g. a loop index).
   * The Idempotency-Key is a hash of the body and this key, so a retried step never asks twice.
   */
  stepKey?: string;
  /** Overrides the derived Idempotency-Key. */
  idempotencyKey?: string;
  /** Aborting stops the wait and cancels the request; `fn` never runs then. */
  signal?: AbortSignal;
  /** The service's JWKS, if already fetched; by default `<baseUrl>/.well-known/jwks.json` (cached). */
  jwks?: JSONWebKeySet;
  /** The service's `issuer` claim; default `countersign`. */
  issuer?: string;
  /** Seconds per long-poll (1–60); default 60. */
  pollSeconds?: number;
  /** Give up after the service has been unreachable (or 5xx) for this long without a break; default 15 min. */
  maxUnreachableMs?: number;
  /** "Now" for the token's expiry check; the system clock by default. */
  currentDate?: () => Date;
  /** Called once with the request as created (or found again on a retry). */
  onCreated?: (request: RequestResource, replayed: boolean) => void;
  /** Called when the outcome could not be reported after retries; the action's result stands. */
  onOutcomeError?: (error: unknown, request: RequestResource) => void;
}

/** What `fn` gets besides the params. */
export interface GuardContext {
  request: RequestResource;
  /** The verified approval token, to pass on to a gateway that checks it. */
  approvalToken: string;
  claims: ApprovalClaims;
}

/** How an approval ended: approved with a verified token, or not (with the typed error guard() throws). */
export type ApprovalDecision =
  | {
      approved: true;
      request: RequestResource;
      /** The params to execute: the approver's edited ones when present, else the proposed ones. */
      params: Record<string, unknown>;
      approvalToken: string;
      claims: ApprovalClaims;
    }
  | { approved: false; request: RequestResource; error: ApprovalError };

/**
 * The first half of guard(): creates the request (idempotently), waits for the decision
 * however long the TTL is, and verifies the approval token. Never runs anything: for
 * frameworks that approve and execute in separate steps (tool-approval hooks, interrupts).
 * Throws only for an abort, an unusable token or a service that stays unreachable.
 */
export async function awaitApproval(
  request: CreateRequestBody,
  options: GuardOptions,
): Promise<ApprovalDecision> {
  const client = clientOf(options);
  const { signal } = options;
  const pollSeconds = options.pollSeconds ?? 60;
  if (!Number.isInteger(pollSeconds) || pollSeconds < 1 || pollSeconds > 60) {
    throw new RangeError("pollSeconds must be a whole number from 1 to 60");
  }
  const retry = retrier(options.maxUnreachableMs ?? 15 * 60_000, signal);
  signal?.throwIfAborted();

  const idempotencyKey = options.idempotencyKey ?? guardKey(request, options.stepKey);
  const created = await retry(() =>
    client.createRequest(request, { idempotencyKey, ...(signal ? { signal } : {}) }),
  );
  let current = created.request;
  options.onCreated?.(current, created.replayed);

  try {
    while (current.status === "pending") {
      const id = current.id;
      current = await retry(() =>
        client.getRequest(id, { wait: pollSeconds, ...(signal ? { signal } : {}) }),
      );
    }
  } catch (error) {
    if (signal?.aborted) throw await cancelAfterAbort(client, current, signal.reason);
    throw error;
  }

  if (current.status !== "approved") return { approved: false, request: current, error: refusal(current) };
  if (current.outcome !== null) {
    const error = new ApprovalAlreadyUsedError(
      current,
      `request ${current.id} was approved and its outcome (${current.outcome.status}) is already reported: ` +
        "the action ran once. Use another stepKey to ask again.",
    );
    return { approved: false, request: current, error };
  }
  if (current.action !== request.action) {
    throw new ApprovalTokenError(
      "wrong_action",
      `request ${current.id} is for "${current.action}", not "${request.action}"`,
    );
  }
  const params = current.approved_params ?? current.params;
  const claims = await verifyApprovalToken(current.approval_token, {
    ...(options.jwks ? { jwks: options.jwks } : { jwksUrl: client.jwksUrl }),
    action: current.action,
    params,
    audience: current.agent,
    requestId: current.id,
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.currentDate ? { currentDate: options.currentDate() } : {}),
  });
  return {
    approved: true,
    request: current,
    params,
    approvalToken: current.approval_token as string,
    claims,
  };
}

/**
 * Asks countersign for approval and runs `fn(approvedParams)` only once a verified
 * approval exists, then reports the outcome. Rejected, expired, cancelled or
 * changes-requested requests throw an ApprovalError subclass and `fn` never runs.
 */
export async function guard<T>(
  request: CreateRequestBody,
  fn: (params: Record<string, unknown>, context: GuardContext) => Promise<T> | T,
  options: GuardOptions,
): Promise<T> {
  const decision = await awaitApproval(request, options);
  if (!decision.approved) throw decision.error;
  options.signal?.throwIfAborted();
  const client = clientOf(options);
  const { request: approved, params, approvalToken, claims } = decision;
  const report = async (status: "succeeded" | "failed", detail?: string) => {
    try {
      await retrier(
        60_000,
        undefined,
      )(() => client.reportOutcome(approved.id, detail === undefined ? { status } : { status, detail }));
    } catch (error) {
      if (options.onOutcomeError) options.onOutcomeError(error, approved);
      else
        process.emitWarning(`countersign: could not report the outcome of ${approved.id}: ${String(error)}`);
    }
  };
  let result: T;
  try {
    result = await fn(params, { request: approved, approvalToken, claims });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await report("failed", message.slice(0, 2000) || "failed");
    throw error;
  }
  await report("succeeded");
  return result;
}

/** The Idempotency-Key guard() derives: a hash of the canonical body and the step key. */
export function guardKey(request: CreateRequestBody, stepKey?: string): string {
  const hash = createHash("sha256")
    .update(canonicalJson({ request, step: stepKey ?? null }))
    .digest("hex");
  return `guard-${hash}`;
}

/** The typed error for a request that ended without approval. */
export function refusal(request: RequestResource): ApprovalError {
  if (request.resolution === "changes_requested") {
    return new ChangesRequestedError(request, `changes requested on ${request.id}${commentOf(request)}`);
  }
  switch (request.status) {
    case "rejected":
      return new ApprovalRejectedError(
        request,
        `request ${request.id} was rejected (${request.resolution ?? "rejected"})${commentOf(request)}`,
      );
    case "expired":
      return new ApprovalExpiredError(request, `request ${request.id} expired before anyone decided`);
    case "cancelled":
      return new ApprovalCancelledError(request, `request ${request.id} was cancelled`);
    default:
      return new ApprovalError(request);
  }
}

function commentOf(request: RequestResource): string {
  const reject = request.decisions.filter((d) => d.decision === "reject").at(-1);
  if (!reject) return "";
  const who = reject.approver.name ?? reject.approver.slack_user_id;
  return reject.comment ? ` by ${who}: ${reject.comment}` : ` by ${who}`;
}

function clientOf(options: GuardOptions): CountersignClient {
  if (options.client) return options.client;
  if (options.baseUrl === undefined || options.token === undefined) {
    throw new TypeError("guard() needs options.client, or options.baseUrl and options.token");
  }
  return new CountersignClient({ baseUrl: options.baseUrl, token: options.token });
}

/** After an abort: cancel the request (best effort) and say so with a typed error. */
async function cancelAfterAbort(
  client: CountersignClient,
  request: RequestResource,
  reason: unknown,
): Promise<unknown> {
  try {
    const cancelled = await retrier(
      10_000,
      undefined,
    )(() => client.cancelRequest(request.id, { reason: "aborted by the agent" }));
    return new ApprovalCancelledError(
      cancelled,
      `request ${request.id} was cancelled: the wait was aborted`,
      {
        cause: reason,
      },
    );
  } catch {
    // Already decided or unreachable: the abort itself is the answer; fn does not run.
    return reason;
  }
}

/**
 * Runs a call, retrying connection failures and 5xx answers with capped exponential
 * backoff until they have lasted `maxUnreachableMs` without a success in between.
 */
function retrier(maxUnreachableMs: number, signal: AbortSignal | undefined) {
  return async <R>(call: () => Promise<R>): Promise<R> => {
    const started = performance.now();
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (signal?.aborted || !isRetryable(error)) throw error;
        if (performance.now() - started > maxUnreachableMs) {
          throw error instanceof CountersignApiError || error instanceof CountersignConnectionError
            ? error
            : new CountersignConnectionError(String(error), { cause: error });
        }
        const retryAfter =
          error instanceof CountersignApiError && error.retryAfter !== null ? error.retryAfter * 1000 : 0;
        const backoff = Math.min(5_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
        await sleep(Math.max(retryAfter, backoff), signal);
      }
    }
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
