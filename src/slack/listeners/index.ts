import type { App } from "@slack/bolt";
import { registerApprove } from "./approve.ts";
import type { ListenerDeps } from "./context.ts";
import { registerEdit } from "./edit.ts";
import { registerReject } from "./reject.ts";

export type { ListenerDeps };

/**
 * The request message's interactions, one file each: Approve (approve.ts),
 * Reject and its reason modal (reject.ts), Edit & approve and its modal
 * (edit.ts). Payloads are read in one place (payload.ts); every handler
 * follows storeThenAck (../store-then-ack.ts): stored, then acked.
 */
export function registerListeners(app: App, context: ListenerDeps): void {
  registerApprove(app, context);
  registerReject(app, context);
  registerEdit(app, context);
}
