export { argsHash, canonicalJson } from "./canonical.ts";
export {
  type CallOptions,
  type ClientOptions,
  CountersignClient,
  type CreateOptions,
  type CreateResult,
  type GetOptions,
  isRetryable,
  type ListOptions,
  type RequestPage,
} from "./client.ts";
export {
  ApprovalAlreadyUsedError,
  ApprovalCancelledError,
  ApprovalError,
  ApprovalExpiredError,
  ApprovalRejectedError,
  ApprovalTokenError,
  ChangesRequestedError,
  CountersignApiError,
  CountersignConnectionError,
  CountersignError,
  TOKEN_ERROR_REASONS,
  type TokenErrorReason,
  WebhookVerificationError,
} from "./errors.ts";
export {
  type ApprovalDecision,
  awaitApproval,
  type GuardContext,
  type GuardOptions,
  guard,
  guardKey,
  refusal,
} from "./guard.ts";
export * from "./types.ts";
export {
  DEFAULT_ISSUER,
  type KeySource,
  TOKEN_TYPE,
  type VerifyOptions,
  verifyApprovalToken,
} from "./verify-token.ts";
export { type VerifyWebhookOptions, verifyWebhook, type WebhookHeaders } from "./webhook.ts";
