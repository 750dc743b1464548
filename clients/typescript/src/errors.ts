import type { ApiIssue, Decision, Outcome, RequestResource, Resolution } from "./types.ts";

/** Base class of every error this package throws. */
export class CountersignError extends Error {
  override name = "CountersignError";
}

/** countersign answered with its error body (CONTRACT §3). */
export class CountersignApiError extends CountersignError {
  override name = "CountersignApiError";
  /** The API's error code, e.g. `invalid_request`, `no_matching_policy`, `unavailable`. */
  readonly code: string;
  /** HTTP status of the answer. */
  readonly status: number;
  /** Which field is wrong, for `invalid_request`. */
  readonly issues: ApiIssue[];
  /** Seconds from a `Retry-After` header, when the service sent one. */
  readonly retryAfter: number | null;
  constructor(
    code: string,
    message: string,
    status: number,
    issues: ApiIssue[] = [],
    retryAfter: number | null = null,
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.issues = issues;
    this.retryAfter = retryAfter;
  }
}

/** countersign could not be reached, or the connection dropped before an answer. */
export class CountersignConnectionError extends CountersignError {
  override name = "CountersignConnectionError";
}

/**
 * The request reached a final status other than `approved` (or was already used):
 * the guarded function did not run. Carries the resource, its resolution, and who
 * decided with what comment.
 */
export class ApprovalError extends CountersignError {
  override name = "ApprovalError";
  readonly resolution: Resolution | null;
  /** The person whose decision ended the request (null for policy, timeout, cancel). */
  readonly approver: Decision["approver"] | null;
  readonly comment: string | null;
  readonly request: RequestResource;
  constructor(request: RequestResource, message?: string, options?: { cause?: unknown }) {
    super(
      message ?? `request ${request.id} was ${request.status} (${request.resolution ?? "no resolution"})`,
      options,
    );
    this.request = request;
    const last = closingDecision(request);
    this.resolution = request.resolution;
    this.approver = last?.approver ?? null;
    this.comment = last?.comment ?? null;
  }
}

/** Rejected by a person or by policy. */
export class ApprovalRejectedError extends ApprovalError {
  override name = "ApprovalRejectedError";
}
/** A reviewer asked for changes (CONTRACT §9): revise and ask again with `revises`. */
export class ChangesRequestedError extends ApprovalError {
  override name = "ChangesRequestedError";
}
/** Nobody decided within the TTL. */
export class ApprovalExpiredError extends ApprovalError {
  override name = "ApprovalExpiredError";
}
/** Cancelled by the agent, e.g. through guard()'s AbortSignal. */
export class ApprovalCancelledError extends ApprovalError {
  override name = "ApprovalCancelledError";
}
/**
 * The approval was already used: an outcome is recorded, so the action ran once.
 * guard() refuses to run it again for the same step; pass another `stepKey` to ask anew.
 */
export class ApprovalAlreadyUsedError extends ApprovalError {
  override name = "ApprovalAlreadyUsedError";
  get outcome(): Outcome | null {
    return this.request.outcome;
  }
}

export const TOKEN_ERROR_REASONS = [
  "missing",
  "malformed",
  "bad_signature",
  "unknown_key",
  "wrong_type",
  "wrong_issuer",
  "wrong_audience",
  "wrong_action",
  "wrong_args",
  "wrong_request",
  "expired",
  "not_yet_valid",
  "jwks_unavailable",
  /** The single-use check (`consume`) says this token was used already (or replaced by a re-issue). */
  "already_used",
  /** The single-use check could not reach countersign: never a pass. */
  "consume_unavailable",
] as const;
export type TokenErrorReason = (typeof TOKEN_ERROR_REASONS)[number];

/** An approval token that must not be honoured; `reason` says why. */
export class ApprovalTokenError extends CountersignError {
  override name = "ApprovalTokenError";
  readonly reason: TokenErrorReason;
  constructor(reason: TokenErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** A callback whose signature, timestamp or body is not what countersign sends. */
export class WebhookVerificationError extends CountersignError {
  override name = "WebhookVerificationError";
}

/** The decision that ended the request: the last reject for a rejection, else the last decision. */
function closingDecision(request: RequestResource): Decision | undefined {
  const rejects = request.decisions.filter((d) => d.decision === "reject");
  return rejects.at(-1) ?? (request.status === "approved" ? request.decisions.at(-1) : undefined);
}
