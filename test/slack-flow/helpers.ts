import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import type { DecisionRecord, RequestRecord } from "../../src/domain/records.ts";
import {
  blockActionsPayload,
  postToApp,
  viewSubmissionPayload,
} from "../../src/fake-slack/slack-requests.ts";
import type { SlackMessage } from "../../src/fake-slack/workspace.ts";
import { type Harness, postedRow, REFUND, SIGNING_SECRET } from "../support/harness.ts";

export { auditEvents, createPosted } from "../support/requests.ts";

/** A refund that routes to finance and needs two distinct approvers (CONTRACT §2, large-refunds). */
export const LARGE_REFUND = {
  ...REFUND,
  summary: "Refund $500 to Dana Ruiz for a batch of defective blenders",
  params: { amount: 500, currency: "USD", order_id: "48214" },
};

export async function row(h: Harness, id: string): Promise<RequestRecord> {
  const found = await h.service.deps.store.getRequest(id);
  if (!found) throw new Error(`request ${id} not in the database`);
  return found;
}

export function decisions(h: Harness, id: string): Promise<DecisionRecord[]> {
  return h.service.deps.store.decisionsFor(id);
}

export async function auditRows(h: Harness, id: string, event: string) {
  return (await h.service.deps.store.auditFor(id)).filter((a) => a.event === event);
}

export const count = <T>(list: readonly T[], pred: (x: T) => boolean): number => list.filter(pred).length;

/** The request's channel message as the fake Slack holds it now. */
export async function channelMessage(h: Harness, id: string): Promise<SlackMessage> {
  const r = await row(h, id);
  if (r.slackChannel === null || r.slackTs === null) throw new Error(`request ${id} was never posted`);
  const message = h.slack.workspace.message(r.slackChannel, r.slackTs);
  if (!message) throw new Error(`message ${r.slackTs} not in ${r.slackChannel}`);
  return message;
}

export type Block = { type: string; block_id?: string; elements?: { action_id?: string }[] };

export function blocksOf(message: { blocks: unknown[] | undefined }): Block[] {
  return (message.blocks ?? []) as Block[];
}

export function hasButtons(message: { blocks: unknown[] | undefined }): boolean {
  return blocksOf(message).some((b) => b.type === "actions");
}

/** Everything a snapshot of the DB row + decisions + audit says, for "nothing changed" checks. */
export async function snapshot(h: Harness, id: string) {
  const r = await row(h, id);
  return {
    status: r.status,
    resolution: r.resolution,
    decidedAt: r.decidedAt,
    decisions: (await decisions(h, id)).map((d) => ({ ...d })),
  };
}

/** A click like h.click, but with the full postToApp result (status and body). */
export async function clickRaw(
  h: Harness,
  user: string,
  action: "approve" | "reject" | "edit",
  requestId: string,
  opts: { channel?: string; ts?: string; triggerId?: string; isDm?: boolean } = {},
) {
  // With both given, nothing is read (a click while the database is unreachable).
  const r =
    opts.channel !== undefined && opts.ts !== undefined ? undefined : await postedRow(h.service, requestId);
  return postToApp(
    `${h.url}/slack/events`,
    SIGNING_SECRET,
    blockActionsPayload({
      user: { id: user, username: user.toLowerCase() },
      actionId: action,
      value: requestId,
      channelId: opts.channel ?? r?.slackChannel ?? "C0SUPPORT",
      messageTs: opts.ts ?? r?.slackTs ?? "1.000100",
      ...(opts.triggerId !== undefined ? { triggerId: opts.triggerId } : {}),
      ...(opts.isDm !== undefined ? { isDm: opts.isDm } : {}),
    }),
  );
}

/** A reject modal submission with a raw value (null = the field was left empty). */
export function submitRejectRaw(h: Harness, user: string, requestId: string, value: string | null) {
  return postToApp(
    `${h.url}/slack/events`,
    SIGNING_SECRET,
    viewSubmissionPayload({
      user: { id: user, username: user.toLowerCase() },
      callbackId: "reject",
      privateMetadata: requestId,
      values: { reason: { reason: { type: "plain_text_input", value } } },
    }),
  );
}

/**
 * A "Slack" that answers auth.test (so start-up is quick) and never answers
 * anything else: the app's calls hang until the caller gives up or dies.
 * `received` lists the paths of every request, answered or not.
 */
export async function startHangingSlack(): Promise<{
  url: string;
  received: string[];
  close(): Promise<void>;
}> {
  const received: string[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    received.push(req.url ?? "");
    if (req.url === "/api/auth.test") {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, user_id: "UBOT", bot_id: "BBOT", team_id: "T0TEST" }));
      return;
    }
    open.add(res);
    res.on("close", () => open.delete(res));
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Lets the service's outbox run a few polls (it polls every 20 ms in the harness). */
export const pause = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

/** An "Edit & approve" modal submission with the given text in the params input. */
export function submitEditRaw(h: Harness, user: string, requestId: string, value: string | null) {
  return postToApp(
    `${h.url}/slack/events`,
    SIGNING_SECRET,
    viewSubmissionPayload({
      user: { id: user, username: user.toLowerCase() },
      callbackId: "approve_with_edits",
      privateMetadata: requestId,
      values: { params: { params: { type: "plain_text_input", value } } },
    }),
  );
}

/** A reject modal submission with the kind choice (CONTRACT §9). */
export function submitRejectKind(
  h: Harness,
  user: string,
  requestId: string,
  kind: "reject" | "request_changes",
  reason: string,
) {
  return postToApp(
    `${h.url}/slack/events`,
    SIGNING_SECRET,
    viewSubmissionPayload({
      user: { id: user, username: user.toLowerCase() },
      callbackId: "reject",
      privateMetadata: requestId,
      values: {
        kind: { kind: { type: "radio_buttons", selected_option: { value: kind } } },
        reason: { reason: { type: "plain_text_input", value: reason } },
      },
    }),
  );
}
