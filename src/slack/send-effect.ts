import type { WebClient } from "@slack/web-api";
import { approversNow } from "../approvals/authority.ts";
import type { Deps } from "../approvals/deps.ts";
import { toResource } from "../approvals/resource.ts";
import type { SlackEffect } from "../approvals/slack-effects.ts";
import type { RequestResource } from "../approvals/types.ts";
import type { AuditEvent } from "../audit/events.ts";
import { formatDuration } from "../config/duration.ts";
import type { OutboxRow, RequestRow } from "../db/schema.ts";
import {
  type RenderContext,
  renderAlreadyFinal,
  renderEscalationNotice,
  renderRefusal,
  renderReminder,
  renderRequestMessage,
} from "./render/index.ts";

/** How long recording a finished Slack call may wait for a foreign write lock. */
const BOOKKEEPING_BUDGET_MS = 60_000;

/** What a send resolved to: done (remove the row) or retry at a time. */
export type SendResult =
  | { done: true }
  | { done: false; retryAt: number; error: string; pauseChannel?: boolean };

/**
 * Sends one outbox item: the Slack calls of its kind, rendered from the
 * request's state now, and the stored result (message ts, audit row) committed
 * together with the item's removal.
 */
export function createEffectSender(
  deps: Deps,
  client: WebClient,
): (item: OutboxRow, effect: SlackEffect, row: RequestRow) => Promise<SendResult> {
  const contextFor = (row: RequestRow, resource: RequestResource): RenderContext => ({
    redactKeys: deps.config.redact,
    needsConfirm:
      row.approvalsRequired > 1 || resource.risk?.tier === "high" || resource.risk?.tier === "critical",
    escalatedTo: row.escalatedTo,
    ttlText: formatDuration(row.ttlMs),
    nowMs: deps.clock.now(),
  });

  /** The escalation DM's context: why it came, and a link to the channel message (null if Slack gives none). */
  const escalationDm = async (row: RequestRow): Promise<RenderContext["escalationDm"]> => {
    if (row.slackChannel === null) return undefined;
    let permalink: string | null = null;
    if (row.slackTs !== null) {
      try {
        const got = await client.chat.getPermalink({ channel: row.slackChannel, message_ts: row.slackTs });
        permalink = got.permalink ?? null;
      } catch (error) {
        // The DM still says where to look: it names the channel.
        deps.log.warn(
          { err: error, requestId: row.id },
          "chat.getPermalink failed; the DM names the channel only",
        );
      }
    }
    const policy = deps.config.policies.find((p) => p.name === row.policy);
    const after = policy?.escalateAfterMs ?? null;
    return {
      channel: row.slackChannel,
      permalink,
      escalateAfterText: after === null ? null : formatDuration(after),
    };
  };

  /** Performs one item's Slack calls; returns done once its effects are stored. */
  return async function send(item: OutboxRow, effect: SlackEffect, row: RequestRow): Promise<SendResult> {
    const resource = toResource(row, deps.store.decisionsFor(row.id));
    const message = renderRequestMessage(resource, contextFor(row, resource));
    const now = () => deps.clock.now();
    // What Slack did must be stored, or the item is sent again: through the
    // group commit, waiting out a foreign write lock for up to a minute.
    const store = (fn: () => void) => deps.writes.run(fn, { budgetMs: BOOKKEEPING_BUDGET_MS });
    const finish = async (event: AuditEvent, detail: unknown, extra?: () => void) => {
      deps.metrics.slackCall(item.kind, "ok");
      await store(() => {
        extra?.();
        deps.store.audit(row.id, now(), event, null, detail);
        deps.store.deleteSlack(item.id);
      });
      return { done: true } as const;
    };
    const skip = async (reason: string) => {
      await store(() => {
        deps.store.audit(row.id, now(), "slack_skipped", null, { kind: item.kind, reason });
        deps.store.deleteSlack(item.id);
      });
      return { done: true } as const;
    };

    switch (effect.kind) {
      case "post": {
        if (row.slackTs !== null) return skip("already posted");
        if (row.slackChannel === null) return skip("no channel");
        const posted = await client.chat.postMessage({
          channel: row.slackChannel,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
          unfurl_media: false,
          metadata: { event_type: "countersign_request", event_payload: { request_id: row.id } },
        });
        const channel = posted.channel ?? row.slackChannel;
        const ts = posted.ts ?? "";
        return finish("posted", { channel, ts }, () => deps.store.setChannelMessage(row.id, channel, ts));
      }
      case "update": {
        if (row.slackTs === null || row.slackChannel === null) return skip("never posted");
        await client.chat.update({
          channel: row.slackChannel,
          ts: row.slackTs,
          text: message.text,
          blocks: message.blocks,
        });
        if (row.dmChannel !== null && row.dmTs !== null) {
          const dmCtx = { ...contextFor(row, resource), escalationDm: await escalationDm(row) };
          const dmMessage = renderRequestMessage(resource, dmCtx);
          await client.chat.update({
            channel: row.dmChannel,
            ts: row.dmTs,
            text: dmMessage.text,
            blocks: dmMessage.blocks,
          });
        }
        return finish("message_updated", { status: row.status });
      }
      case "escalation_dm": {
        if (row.dmTs !== null) return skip("already sent");
        const opened = await client.conversations.open({ users: effect.manager });
        const dm = opened.channel?.id;
        if (!dm) throw new Error("conversations.open returned no channel");
        const dmCtx = { ...contextFor(row, resource), escalationDm: await escalationDm(row) };
        const dmMessage = renderRequestMessage(resource, dmCtx);
        const posted = await client.chat.postMessage({
          channel: dm,
          text: dmMessage.text,
          blocks: dmMessage.blocks,
          unfurl_links: false,
          unfurl_media: false,
        });
        const ts = posted.ts ?? "";
        return finish("escalation_dm_sent", { manager: effect.manager, channel: dm, ts }, () =>
          deps.store.setDmMessage(row.id, dm, ts),
        );
      }
      case "escalation_notice":
      case "reminder": {
        if (row.slackTs === null || row.slackChannel === null) return skip("never posted");
        if (effect.kind === "reminder" && row.status !== "pending") return skip("no longer pending");
        const who = approversNow(deps.config, row);
        const reply =
          effect.kind === "reminder"
            ? renderReminder(resource, who.approvers, who.usergroup)
            : renderEscalationNotice(resource, effect.manager);
        await client.chat.postMessage({ channel: row.slackChannel, thread_ts: row.slackTs, ...reply });
        return finish(effect.kind === "reminder" ? "reminder_posted" : "escalation_notice_posted", {});
      }
      case "ephemeral": {
        const text =
          effect.message.type === "already_final"
            ? renderAlreadyFinal(resource)
            : renderRefusal(effect.message.reason, resource, approversNow(deps.config, row));
        await client.chat.postEphemeral({ channel: effect.channel, user: effect.user, text });
        return finish("ephemeral_sent", { user: effect.user, message: effect.message });
      }
    }
  };
}
