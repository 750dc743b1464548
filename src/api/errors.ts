import { z } from "zod";

export const API_ERROR_CODES = [
  "unauthorized",
  "invalid_request",
  "invalid_json",
  "not_found",
  "method_not_allowed",
  "conflict",
  "idempotency_conflict",
  "token_used",
  "payload_too_large",
  "unsupported_media_type",
  "no_matching_policy",
  "unavailable",
  "internal_error",
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export const apiIssueSchema = z.object({ path: z.string(), message: z.string() });
export type ApiIssue = z.infer<typeof apiIssueSchema>;

/** The body of every refusal. */
export const apiErrorBodySchema = z.object({
  error: z.object({
    code: z.enum(API_ERROR_CODES),
    message: z.string(),
    issues: z.array(apiIssueSchema).optional(),
  }),
});

/** The one place an error code becomes an HTTP status. */
export function statusOf(code: ApiErrorCode): number {
  switch (code) {
    case "unauthorized":
      return 401;
    case "invalid_request":
    case "invalid_json":
      return 400;
    case "not_found":
      return 404;
    case "method_not_allowed":
      return 405;
    case "conflict":
    case "idempotency_conflict":
    case "token_used":
      return 409;
    case "payload_too_large":
      return 413;
    case "unsupported_media_type":
      return 415;
    case "no_matching_policy":
      return 422;
    case "unavailable":
      return 503;
    case "internal_error":
      return 500;
  }
}

/** A refusal the router turns into the contract's error body. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly issues: ApiIssue[] | undefined;
  constructor(code: ApiErrorCode, message: string, issues?: ApiIssue[]) {
    super(message);
    this.code = code;
    this.issues = issues;
  }
}
