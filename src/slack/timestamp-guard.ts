/** Slack's replay window: a request signed further than this from our clock is refused. */
export const MAX_SKEW_SECONDS = 5 * 60;

/**
 * Whether a Slack request timestamp (seconds, as sent in
 * `x-slack-request-timestamp`) lies more than MAX_SKEW_SECONDS in the future.
 * Bolt refuses stale timestamps but not future ones, so a request captured
 * with a forged-ahead clock could be replayed for as long as it lies ahead.
 */
export function isFutureTimestamp(header: string | string[] | undefined, nowMs: number): boolean {
  if (typeof header !== "string" || !/^[0-9]{1,12}$/.test(header)) return false; // Bolt refuses those
  return Number(header) > Math.floor(nowMs / 1000) + MAX_SKEW_SECONDS;
}
