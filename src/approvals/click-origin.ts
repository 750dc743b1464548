import type { RequestRecord } from "../domain/records.ts";
import type { RefusalReason } from "../domain/transitions.ts";

/** The message a button was clicked on, as Slack reports it with the click. */
export interface ClickOrigin {
  channel: string | null;
  ts: string | null;
  /** The request named by the message's own metadata, when Slack echoes it. */
  requestId: string | null;
}

/**
 * A click counts only for the request of the message it came from: the
 * channel message or the escalation DM recorded for that request (or, when
 * Slack echoes it, the message metadata countersign posted it with). A button
 * whose value names another request is refused, whatever that request is.
 */
export function originRefusal(
  row: Pick<RequestRecord, "id" | "slackChannel" | "slackTs" | "dmChannel" | "dmTs" | "escalatedTo">,
  origin: ClickOrigin,
): Extract<RefusalReason, "wrong_message" | "message_not_recorded"> | null {
  if (origin.requestId !== null && origin.requestId !== row.id) return "wrong_message";
  const recorded: [string | null, string | null][] = [
    [row.slackChannel, row.slackTs],
    [row.dmChannel, row.dmTs],
  ];
  const same = recorded.some(
    ([channel, ts]) =>
      ts !== null &&
      ts === origin.ts &&
      (channel === null || origin.channel === null || channel === origin.channel),
  );
  if (same || origin.requestId === row.id) return null;
  // Posted, but Slack's answer (the ts) is not stored yet: it may be this very message.
  const pending = row.slackTs === null || (row.escalatedTo !== null && row.dmTs === null);
  return pending ? "message_not_recorded" : "wrong_message";
}
