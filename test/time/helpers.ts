import { FINAL_STATUSES } from "../../src/domain/vocabulary.ts";
import type { SlackMessage } from "../../src/fake-slack/workspace.ts";
import type { Store } from "../../src/storage/ports.ts";
import type { Harness } from "../support/harness.ts";

export {
  type Delivery,
  type Receiver,
  type Respond,
  startReceiver,
  verifyWebhook,
} from "../support/receiver.ts";
export { auditEvents, createPosted } from "../support/requests.ts";

export const MINUTE = 60_000;

/** Audit rows of a request whose event is a final status (approved, rejected, expired, cancelled). */
export async function finalAuditRows(store: Store, id: string) {
  return (await store.auditFor(id)).filter((a) => (FINAL_STATUSES as readonly string[]).includes(a.event));
}

type Block = { type: string; elements?: { action_id?: string; value?: string; style?: string }[] };

/** The actions block of a message, if it still has one. */
export function actionsOf(message: SlackMessage | undefined): Block | undefined {
  return (message?.blocks as Block[] | undefined)?.find((b) => b.type === "actions");
}

/** Everything a person sees on the message: fallback text and blocks. */
export function visibleText(message: SlackMessage | undefined): string {
  return `${message?.text ?? ""}\n${JSON.stringify(message?.blocks ?? [])}`;
}

/** The top-level (non-reply) message in a channel carrying this request's buttons or id. */
export function rootMessage(
  h: Harness,
  channel: string,
  ts: string | null | undefined,
): SlackMessage | undefined {
  return h.slack.messages(channel).find((m) => m.ts === ts);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
