import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { HTTPReceiver } from "@slack/bolt";
import type { Logger } from "pino";

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

/**
 * Puts a timestamp check in front of Bolt's own verification on the receiver's
 * Slack endpoints: a request dated more than five minutes ahead is answered 401
 * before its body is read, exactly like a stale one. `now` is the wall clock
 * (Slack's clock is compared with ours, not with the domain's).
 */
export function guardFutureTimestamps(
  receiver: HTTPReceiver,
  options: { endpoints: readonly string[]; now: () => number; log: Logger },
): void {
  const inner: RequestListener = receiver.requestListener;
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (
      req.method === "POST" &&
      options.endpoints.includes(path) &&
      isFutureTimestamp(req.headers["x-slack-request-timestamp"], options.now())
    ) {
      options.log.warn(
        { timestamp: req.headers["x-slack-request-timestamp"] },
        "Slack request refused: x-slack-request-timestamp is more than 5 minutes in the future",
      );
      req.resume();
      res.writeHead(401).end();
      return;
    }
    inner(req, res);
  };
}
