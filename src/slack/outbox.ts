import { ErrorCode, type WebClient } from "@slack/web-api";
import type { Deps } from "../approvals/deps.ts";
import { type SlackEffect, slackEffectSchema } from "../approvals/slack-effects.ts";
import type { RequestResource } from "../approvals/types.ts";
import type { AuditEvent } from "../audit/events.ts";
import { formatDuration } from "../config/duration.ts";
import { toResource } from "../db/rows.ts";
import type { OutboxRow, RequestRow } from "../db/schema.ts";
import { createWorkLoop } from "../work-loop.ts";
import {
  type RenderContext,
  renderAlreadyFinal,
  renderEscalationNotice,
  renderRefusal,
  renderReminder,
  renderRequestMessage,
} from "./render.ts";

export interface OutboxOptions {
  /** Items sent at once across requests and channels (one at a time per channel). */
  concurrency?: number;
  /** How often to look for retries that fell due. */
  pollMs?: number;
}

/** What a send resolved to: done (remove the row) or retry at a time. */
type SendResult = { done: true } | { done: false; retryAt: number; error: string; pauseChannel?: boolean };

const MAX_BACKOFF_MS = 5 * 60_000;
/** After a 429, calls to that channel are spaced this far apart… */
const PACED_GAP_MS = 1_000;
/** …for this long after the pause ends. */
const PACED_FOR_MS = 60_000;

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

/**
 * Drains the slack_outbox table: the head item of each request's queue, one
 * call at a time per channel, retried with backoff; a 429 pauses that channel
 * for its Retry-After. An item is deleted only after Slack accepted it and the
 * result (the message ts) is stored, in one transaction.
 */
export function createSlackOutbox(deps: Deps, client: WebClient, options: OutboxOptions = {}) {
  const concurrency = options.concurrency ?? 8;
  const pollMs = options.pollMs ?? 500;
  const inFlight = new Map<number, Promise<void>>();
  const busyChannels = new Set<string>();
  const pausedUntil = new Map<string, number>();
  const loop = createWorkLoop(pump, { pollMs });
  const kick = loop.kick;

  const channelOf = (item: OutboxRow, effect: SlackEffect, row: RequestRow | undefined): string | null => {
    if (effect.kind === "ephemeral") return effect.channel;
    if (effect.kind === "escalation_dm") return `dm:${effect.manager}`;
    return row?.slackChannel ?? `request:${item.requestId}`;
  };

  // A pass triggered only by new work scans just the items after `cursor`:
  // everything before it was seen and is waiting for a channel. A finished
  // call, a pause ending or the poll makes the next pass scan from the start.
  let cursor = 0;
  let fullScan = true;
  let lastFullScan = 0;
  const rescan = () => {
    fullScan = true;
    kick();
  };

  function pump(): void {
    const now = deps.clock.now();
    const free = concurrency - inFlight.size;
    if (free > 0) {
      // The periodic scan looks far past items held back by busy or
      // rate-limited channels; the frequent ones only a little.
      const periodic = now - lastFullScan >= pollMs;
      if (periodic) fullScan = true;
      const after = fullScan ? 0 : cursor;
      if (periodic) lastFullScan = now;
      fullScan = false;
      const due = deps.store.dueSlack(now, (periodic ? 500 : 64) + inFlight.size, after);
      cursor = Math.max(after, due.at(-1)?.id ?? 0);
      let started = 0;
      for (const item of due) {
        if (started >= free) break;
        if (inFlight.has(item.id)) continue;
        // Cheap check first: most items wait for a busy or rate-limited channel.
        if (item.kind !== "ephemeral" && item.kind !== "escalation_dm") {
          const target = item.channel ?? `request:${item.requestId}`;
          if (busyChannels.has(target) || (pausedUntil.get(target) ?? 0) > now) continue;
        }
        const parsed = slackEffectSchema.safeParse(parseJsonOrNull(item.payload));
        const row = deps.store.getRequest(item.requestId);
        if (!parsed.success || !row) {
          deps.log.error({ item: item.id, requestId: item.requestId }, "dropping an unreadable outbox item");
          deps.store.tx(() => {
            deps.store.audit(item.requestId, now, "slack_dropped", null, {
              kind: item.kind,
              reason: "unreadable",
            });
            deps.store.deleteSlack(item.id);
          });
          continue;
        }
        const channel = channelOf(item, parsed.data, row);
        if (channel !== null && (busyChannels.has(channel) || (pausedUntil.get(channel) ?? 0) > now))
          continue;
        if (channel !== null) busyChannels.add(channel);
        started += 1;
        const run = send(item, parsed.data, row)
          .catch((error: unknown) => failure(error, now, item))
          .then((result) => settle(item, result, channel))
          .catch((error: unknown) =>
            deps.log.error({ err: error, item: item.id }, "outbox bookkeeping failed"),
          )
          .finally(() => {
            inFlight.delete(item.id);
            if (channel !== null) busyChannels.delete(channel);
            rescan();
          });
        inFlight.set(item.id, run);
      }
    }
  }

  /** Channels that answered 429 lately, until when: they get one call per PACED_GAP_MS. */
  const pacedUntil = new Map<string, number>();

  function pause(channel: string, until: number): void {
    pausedUntil.set(channel, until);
    // Resume the moment the pause ends rather than at the next poll.
    setTimeout(rescan, Math.max(0, until - deps.clock.now())).unref();
  }

  function settle(item: OutboxRow, result: SendResult, channel: string | null): void {
    const now = deps.clock.now();
    if (result.done) {
      // After a 429, keep to Slack's ~1 message per second on that channel
      // for a while instead of bursting into the next 429.
      if (channel !== null && (pacedUntil.get(channel) ?? 0) > now) pause(channel, now + PACED_GAP_MS);
      return;
    }
    if (result.pauseChannel === true && channel !== null) {
      pacedUntil.set(channel, result.retryAt + PACED_FOR_MS);
      pause(channel, result.retryAt);
    }
    deps.store.retrySlack(item.id, result.retryAt, result.error);
  }

  function failure(error: unknown, now: number, item: OutboxRow): SendResult {
    const code = (error as { code?: string }).code;
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** item.attempts) * (0.75 + Math.random() * 0.5);
    if (code === ErrorCode.RateLimitedError) {
      const retryAfter = Number((error as { retryAfter?: number }).retryAfter ?? 1);
      deps.metrics.slackCall(item.kind, "rate_limited");
      return { done: false, retryAt: now + retryAfter * 1000, error: "ratelimited", pauseChannel: true };
    }
    const detail =
      code === ErrorCode.PlatformError
        ? String((error as { data?: { error?: string } }).data?.error ?? "platform_error")
        : error instanceof Error
          ? error.message
          : String(error);
    deps.metrics.slackCall(item.kind, "error");
    if (code === ErrorCode.PlatformError && item.kind !== "post" && PERMANENT_ERRORS.has(detail)) {
      deps.log.warn(
        { requestId: item.requestId, kind: item.kind, error: detail },
        "Slack refused this call for good; dropping it",
      );
      deps.store.tx(() => {
        deps.store.audit(item.requestId, now, "slack_dropped", null, { kind: item.kind, error: detail });
        deps.store.deleteSlack(item.id);
      });
      return { done: true };
    }
    deps.log.warn(
      { requestId: item.requestId, kind: item.kind, attempt: item.attempts + 1, error: detail },
      "Slack call failed; will retry",
    );
    return { done: false, retryAt: now + Math.round(backoff), error: detail };
  }

  const contextFor = (row: RequestRow, resource: RequestResource): RenderContext => ({
    redactKeys: deps.config.redact,
    needsConfirm:
      row.approvalsRequired > 1 || resource.risk?.tier === "high" || resource.risk?.tier === "critical",
    escalatedTo: row.escalatedTo === null || row.escalatedTo === "" ? null : row.escalatedTo,
    ttlText: formatDuration(row.ttlMs),
    nowMs: deps.clock.now(),
  });

  const approversOf = (row: RequestRow) => {
    const role = row.role === null ? undefined : deps.config.roles[row.role];
    return {
      approvers: role?.approvers ?? [],
      usergroup: role?.usergroup ?? null,
      escalateTo: row.escalatedTo || null,
    };
  };

  /** Performs one item's Slack calls; returns done once its effects are stored. */
  async function send(item: OutboxRow, effect: SlackEffect, row: RequestRow): Promise<SendResult> {
    const resource = toResource(row, deps.store.decisionsFor(row.id));
    const message = renderRequestMessage(resource, contextFor(row, resource));
    const now = () => deps.clock.now();
    const finish = (event: AuditEvent, detail: unknown, extra?: () => void) => {
      deps.metrics.slackCall(item.kind, "ok");
      deps.store.tx(() => {
        extra?.();
        deps.store.audit(row.id, now(), event, null, detail);
        deps.store.deleteSlack(item.id);
      });
      return { done: true } as const;
    };
    const skip = (reason: string) => {
      deps.store.tx(() => {
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
          await client.chat.update({
            channel: row.dmChannel,
            ts: row.dmTs,
            text: message.text,
            blocks: message.blocks,
          });
        }
        return finish("message_updated", { status: row.status });
      }
      case "escalation_dm": {
        if (row.dmTs !== null) return skip("already sent");
        const opened = await client.conversations.open({ users: effect.manager });
        const dm = opened.channel?.id;
        if (!dm) throw new Error("conversations.open returned no channel");
        const posted = await client.chat.postMessage({
          channel: dm,
          text: message.text,
          blocks: message.blocks,
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
        const role = row.role === null ? undefined : deps.config.roles[row.role];
        const reply =
          effect.kind === "reminder"
            ? renderReminder(resource, role?.approvers ?? [], role?.usergroup ?? null)
            : renderEscalationNotice(resource, effect.manager);
        await client.chat.postMessage({ channel: row.slackChannel, thread_ts: row.slackTs, ...reply });
        return finish(effect.kind === "reminder" ? "reminder_posted" : "escalation_notice_posted", {});
      }
      case "ephemeral": {
        const text =
          effect.message.type === "already_final"
            ? renderAlreadyFinal(resource)
            : renderRefusal(effect.message.reason, resource, approversOf(row));
        await client.chat.postEphemeral({ channel: effect.channel, user: effect.user, text });
        return finish("ephemeral_sent", { user: effect.user, message: effect.message });
      }
    }
  }

  return {
    start: loop.start,
    kick,
    /** Stops taking new items and waits (bounded) for calls in flight. */
    async stop(timeoutMs = 10_000): Promise<void> {
      loop.stop();
      const all = Promise.allSettled([...inFlight.values()]);
      await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    },
    get inFlight(): number {
      return inFlight.size;
    },
  };
}

export type SlackOutbox = ReturnType<typeof createSlackOutbox>;

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
