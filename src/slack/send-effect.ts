import type { WebClient } from "@slack/web-api";
import { approversNow } from "../approvals/authority.ts";
import type { Deps } from "../approvals/deps.ts";
import { toResource } from "../approvals/resource.ts";
import type { SlackEffect } from "../approvals/slack-effects.ts";
import type { AuditEvent } from "../audit/events.ts";
import { formatDuration } from "../config/duration.ts";
import type { OutboxRecord, RequestRecord } from "../domain/records.ts";
import type { RequestResource } from "../domain/vocabulary.ts";
import { messageUrl } from "./mrkdwn.ts";
import {
  type RenderContext,
  redactParams,
  renderAlreadyFinal,
  renderEscalationNotice,
  renderRefusal,
  renderReminder,
  renderRequestMessage,
} from "./render/index.ts";

/** Message metadata that names the request a post is for (finds a post whose recording was lost). */
export const POST_METADATA_TYPE = "countersign_request";

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
): (item: OutboxRecord, effect: SlackEffect, row: RequestRecord) => Promise<SendResult> {
  const revisionOf = async (row: RequestRecord): Promise<RequestResource | null> => {
    const previous = row.revises === null ? undefined : await deps.store.getRequest(row.revises);
    return previous ? toResource(previous, await deps.store.decisionsFor(previous.id)) : null;
  };
  const revisedBy = async (row: RequestRecord): Promise<RenderContext["revisedBy"]> => {
    if (row.revisedBy === null) return null;
    const revision = await deps.store.getRequest(row.revisedBy);
    const url =
      revision?.slackChannel && revision.slackTs
        ? messageUrl(revision.slackChannel, revision.slackTs, revision.slackThreadTs)
        : null;
    return { id: row.revisedBy, url };
  };
  const HISTORY_WINDOW_MS = 24 * 3_600_000;
  const history = async (row: RequestRecord): Promise<RenderContext["history"]> => {
    const rows = await deps.store.historyFor({
      agent: row.agent,
      action: row.action,
      since: row.createdAt - HISTORY_WINDOW_MS,
      until: row.createdAt,
      id: row.id,
    });
    return {
      agent: row.agent,
      action: row.action,
      windowText: "24 h",
      counts: Object.fromEntries(rows.map((r) => [r.status, r.n])),
    };
  };
  const why = (resource: RequestResource): string[] | null => {
    const policy = deps.config.policies.find((p) => p.name === resource.policy);
    // Explained from the redacted params: a condition on a redacted key never shows its value.
    const params = redactParams(resource.params, deps.config.redact);
    return policy ? policy.match.explain({ ...resource, params }) : null;
  };
  const contextFor = async (row: RequestRecord, resource: RequestResource): Promise<RenderContext> => ({
    why: why(resource),
    history: await history(row),
    edits: deps.config.policies.find((p) => p.name === row.policy)?.edits ?? false,
    revisionOf: await revisionOf(row),
    revisedBy: await revisedBy(row),
    redactKeys: deps.config.redact,
    needsConfirm:
      row.approvalsRequired > 1 || resource.risk?.tier === "high" || resource.risk?.tier === "critical",
    escalatedTo: row.escalatedTo,
    ttlText: formatDuration(row.ttlMs),
    nowMs: deps.clock.now(),
  });

  /** The escalation DM's context: why it came, and a link to the channel message (null if Slack gives none). */
  const escalationDm = async (row: RequestRecord): Promise<RenderContext["escalationDm"]> => {
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

  /**
   * Before a retried post: an earlier claim (this process before a kill -9,
   * or a replica that died) may have posted it after all, between Slack's
   * answer and the commit. Its metadata names the request, so it is found in
   * the channel's recent history and adopted instead of posted twice. Without
   * the history scopes (or in a channel the bot never joined) the lookup fails
   * and the post goes out: at least once rather than lost.
   */
  const findPosted = async (
    item: OutboxRecord,
    channel: string,
    requestId: string,
    kind: "post" | "escalation_dm",
  ): Promise<{ channel: string; ts: string } | null> => {
    if (item.attempts === 0) return null;
    try {
      const history = await client.conversations.history({ channel, limit: 200, include_all_metadata: true });
      for (const m of history.messages ?? []) {
        const metadata = m.metadata as
          | { event_type?: string; event_payload?: Record<string, unknown> }
          | undefined;
        const payload = metadata?.event_payload;
        if (
          metadata?.event_type === POST_METADATA_TYPE &&
          payload?.request_id === requestId &&
          (payload.kind ?? "post") === kind &&
          m.ts !== undefined
        ) {
          deps.log.info(
            { requestId, channel, ts: m.ts, kind },
            "found the message an earlier attempt posted",
          );
          return { channel, ts: m.ts };
        }
      }
    } catch (error) {
      deps.log.warn(
        { err: error, requestId, channel, kind },
        "could not look for a message an earlier attempt may have posted (conversations.history); posting",
      );
    }
    return null;
  };

  /** Performs one item's Slack calls; returns done once its effects are stored. */
  return async function send(
    item: OutboxRecord,
    effect: SlackEffect,
    row: RequestRecord,
  ): Promise<SendResult> {
    const resource = toResource(row, await deps.store.decisionsFor(row.id));
    const context = await contextFor(row, resource);
    const message = renderRequestMessage(resource, context);
    const now = () => deps.clock.now();
    // What Slack did must be stored, or the item is sent again: through the
    // group commit, waiting out a foreign write lock for up to a minute.
    const store = (fn: () => Promise<void>) => deps.writes.run(fn, { budgetMs: BOOKKEEPING_BUDGET_MS });
    const finish = async (event: AuditEvent, detail: unknown, extra?: () => Promise<void>) => {
      deps.metrics.slackCall(item.kind, "ok");
      await store(async () => {
        await extra?.();
        await deps.store.audit(row.id, now(), event, null, detail);
        await deps.store.deleteSlack(item.id);
      });
      return { done: true } as const;
    };
    const skip = async (reason: string) => {
      await store(async () => {
        await deps.store.audit(row.id, now(), "slack_skipped", null, { kind: item.kind, reason });
        await deps.store.deleteSlack(item.id);
      });
      return { done: true } as const;
    };

    switch (effect.kind) {
      case "post": {
        if (row.slackTs !== null) return skip("already posted");
        if (row.slackChannel === null) return skip("no channel");
        // A revision goes into the thread of the request it revises (its root, for a chain) when both share a channel.
        const previous = row.revises === null ? undefined : await deps.store.getRequest(row.revises);
        const threadTs =
          previous?.slackChannel === row.slackChannel && previous.slackTs !== null
            ? (previous.slackThreadTs ?? previous.slackTs)
            : null;
        const earlier = await findPosted(item, row.slackChannel, row.id, "post");
        const args = {
          channel: row.slackChannel,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
          unfurl_media: false,
          metadata: { event_type: POST_METADATA_TYPE, event_payload: { request_id: row.id } },
        };
        // Broadcast too: a new request hidden in a thread would wait unseen.
        const posted =
          earlier ??
          (await client.chat.postMessage(
            threadTs === null ? args : { ...args, thread_ts: threadTs, reply_broadcast: true },
          ));
        const channel = posted.channel ?? row.slackChannel;
        const ts = posted.ts ?? "";
        return finish(
          "posted",
          { channel, ts, ...(threadTs === null ? {} : { thread_ts: threadTs }) },
          async () => {
            await deps.store.setChannelMessage(row.id, channel, ts);
            if (threadTs !== null) await deps.store.setThreadTs(row.id, threadTs);
            // The revised message links to this one now that it has an address.
            if (previous?.slackTs != null)
              await deps.store.enqueueSlack(previous.id, "update", { kind: "update" }, now());
          },
        );
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
          const dmCtx = { ...context, escalationDm: await escalationDm(row) };
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
        const earlier = await findPosted(item, dm, row.id, "escalation_dm");
        const dmCtx = { ...context, escalationDm: await escalationDm(row) };
        const dmMessage = renderRequestMessage(resource, dmCtx);
        const posted =
          earlier ??
          (await client.chat.postMessage({
            channel: dm,
            text: dmMessage.text,
            blocks: dmMessage.blocks,
            unfurl_links: false,
            unfurl_media: false,
            metadata: {
              event_type: POST_METADATA_TYPE,
              event_payload: { request_id: row.id, kind: "escalation_dm" },
            },
          }));
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
