import { ErrorCode } from "@slack/web-api";

/**
 * Slack answers that no retry can change: the target is gone or refuses this
 * kind of message. Retrying them would block every later item of the request
 * (its queue drains in order), so such an item is dropped and audited, except
 * the first post, which waits for the operator to fix the channel.
 */
const PERMANENT_ERRORS = new Set([
  "channel_not_found",
  "message_not_found",
  "thread_not_found",
  "cant_update_message",
  "edit_window_closed",
  "is_archived",
  "user_not_found",
  "user_not_in_channel",
  "user_disabled",
  "cannot_dm_bot",
  "messages_tab_disabled",
  "invalid_blocks",
  "msg_blocks_too_long",
  "no_text",
]);

/** What a failed Slack call means for the item that made it. */
export type SlackFailure =
  | { kind: "rate_limited"; retryAfterMs: number }
  | { kind: "permanent"; error: string }
  | { kind: "retryable"; error: string };

/** Classifies an error thrown by @slack/web-api (or the network under it). */
export function classifySlackError(error: unknown): SlackFailure {
  const code = (error as { code?: string }).code;
  if (code === ErrorCode.RateLimitedError) {
    const retryAfter = Number((error as { retryAfter?: number }).retryAfter ?? 1);
    return { kind: "rate_limited", retryAfterMs: retryAfter * 1000 };
  }
  if (code === ErrorCode.PlatformError) {
    const detail = String((error as { data?: { error?: string } }).data?.error ?? "platform_error");
    return PERMANENT_ERRORS.has(detail)
      ? { kind: "permanent", error: detail }
      : { kind: "retryable", error: detail };
  }
  return { kind: "retryable", error: error instanceof Error ? error.message : String(error) };
}
