import type { WebClient } from "@slack/web-api";
import type { Deps } from "../approvals/deps.ts";
import { type SlackEffect, slackEffectSchema } from "../approvals/slack-effects.ts";
import type { OutboxRecord, RequestRecord } from "../domain/records.ts";
import { createWorkLoop, keepLeased } from "../work-loop.ts";
import { createEffectSender, type SendResult } from "./send-effect.ts";
import { classifySlackError } from "./slack-errors.ts";

export interface OutboxOptions {
  /** Items sent at once across requests and channels (one at a time per channel). */
  concurrency?: number;
  /** How often to look for retries that fell due. */
  pollMs?: number;
  /** How long a claimed item is this replica's (default OUTBOX_LEASE_MS). */
  leaseMs?: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;
/** After a 429, calls to that channel are spaced this far apart… */
const PACED_GAP_MS = 1_000;
/** …for this long after the pause ends. */
const PACED_FOR_MS = 60_000;
/**
 * How long a claimed item is this replica's (PostgreSQL, several replicas):
 * longer than any one item's Slack calls; a replica that dies mid-call leaves
 * its items to the others after this.
 */
export const OUTBOX_LEASE_MS = 120_000;
/** How often a replica re-reads the channel pauses other replicas stored after a 429. */
const SHARED_PAUSES_MS = 250;

/**
 * Drains the slack_outbox table: the head item of each request's queue, one
 * call at a time per channel, retried with backoff; a 429 pauses that channel
 * for its Retry-After. An item is deleted only after Slack accepted it and the
 * result (the message ts) is stored, in one transaction.
 */
export function createSlackOutbox(deps: Deps, client: WebClient, options: OutboxOptions = {}) {
  const concurrency = options.concurrency ?? 8;
  const pollMs = options.pollMs ?? 500;
  const leaseMs = options.leaseMs ?? OUTBOX_LEASE_MS;
  const inFlight = new Map<number, Promise<void>>();
  const busyChannels = new Set<string>();
  const pausedUntil = new Map<string, number>();
  const loop = createWorkLoop(pump, {
    pollMs,
    onError: (error) => deps.log.error({ err: error }, "outbox pass failed; retrying at the next poll"),
  });
  const kick = loop.kick;

  const channelOf = (
    item: OutboxRecord,
    effect: SlackEffect,
    row: RequestRecord | undefined,
  ): string | null => {
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

  let sharedPausesAt = Number.NEGATIVE_INFINITY;
  /** Pauses other replicas stored (a 429 they got), merged into this one's. */
  async function readSharedPauses(now: number): Promise<void> {
    if (now - sharedPausesAt < SHARED_PAUSES_MS) return;
    sharedPausesAt = now;
    for (const [channel, p] of await deps.store.channelPauses(now)) {
      if (p.until > (pausedUntil.get(channel) ?? 0)) pause(channel, p.until, false);
      if (p.pacedUntil > (pacedUntil.get(channel) ?? 0)) pacedUntil.set(channel, p.pacedUntil);
    }
  }

  async function pump(): Promise<void> {
    const now = deps.clock.now();
    const free = concurrency - inFlight.size;
    if (free > 0) {
      await readSharedPauses(now);
      // The periodic scan looks far past items held back by busy or
      // rate-limited channels; the frequent ones only a little.
      const periodic = now - lastFullScan >= pollMs;
      if (periodic) fullScan = true;
      const after = fullScan ? 0 : cursor;
      if (periodic) lastFullScan = now;
      fullScan = false;
      const due = await deps.store.dueSlack(now, (periodic ? 500 : 64) + inFlight.size, after);
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
        const row = await deps.store.getRequest(item.requestId);
        if (!parsed.success || !row) {
          deps.log.error({ item: item.id, requestId: item.requestId }, "dropping an unreadable outbox item");
          await deps.writes.run(async () => {
            await deps.store.audit(item.requestId, now, "slack_dropped", null, {
              kind: item.kind,
              reason: "unreadable",
            });
            await deps.store.deleteSlack(item.id);
          });
          continue;
        }
        const channel = channelOf(item, parsed.data, row);
        if (channel !== null && (busyChannels.has(channel) || (pausedUntil.get(channel) ?? 0) > now))
          continue;
        if (inFlight.has(item.id) || inFlight.size >= concurrency) continue;
        // Exactly one replica sends it: the others skip it until this one's lease ends.
        if (!(await deps.store.leaseSlack(item.id, now, leaseMs))) continue;
        if (channel !== null) busyChannels.add(channel);
        started += 1;
        const release = keepLeased(
          leaseMs,
          () => deps.store.renewSlack(item.id, deps.clock.now() + leaseMs),
          (error) => deps.log.warn({ err: error, item: item.id }, "could not renew an outbox claim"),
        );
        const run = send(item, parsed.data, row)
          .catch((error: unknown) => failure(error, now, item))
          .then((result) => settle(item, result, channel))
          .catch((error: unknown) =>
            deps.log.error({ err: error, item: item.id }, "outbox bookkeeping failed"),
          )
          .finally(() => {
            release();
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

  function pause(channel: string, until: number, share = true): void {
    pausedUntil.set(channel, until);
    if (share) {
      // Every replica holds back on this channel, not only the one that got the 429.
      deps.store
        .pauseChannel(channel, until, pacedUntil.get(channel) ?? until)
        .catch((error: unknown) => deps.log.warn({ err: error, channel }, "could not share a channel pause"));
    }
    // Resume the moment the pause ends rather than at the next poll.
    setTimeout(rescan, Math.max(0, until - deps.clock.now())).unref();
  }

  async function settle(item: OutboxRecord, result: SendResult, channel: string | null): Promise<void> {
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
    await deps.store.retrySlack(item.id, result.retryAt, result.error);
  }

  async function failure(error: unknown, now: number, item: OutboxRecord): Promise<SendResult> {
    const failed = classifySlackError(error);
    if (failed.kind === "rate_limited") {
      deps.metrics.slackCall(item.kind, "rate_limited");
      return { done: false, retryAt: now + failed.retryAfterMs, error: "ratelimited", pauseChannel: true };
    }
    deps.metrics.slackCall(item.kind, "error");
    if (failed.kind === "permanent" && item.kind !== "post") {
      deps.log.warn(
        { requestId: item.requestId, kind: item.kind, error: failed.error },
        "Slack refused this call for good; dropping it",
      );
      await deps.writes.run(async () => {
        await deps.store.audit(item.requestId, now, "slack_dropped", null, {
          kind: item.kind,
          error: failed.error,
        });
        await deps.store.deleteSlack(item.id);
      });
      return { done: true };
    }
    deps.log.warn(
      { requestId: item.requestId, kind: item.kind, attempt: item.attempts + 1, error: failed.error },
      "Slack call failed; will retry",
    );
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** item.attempts) * (0.75 + Math.random() * 0.5);
    return { done: false, retryAt: now + Math.round(backoff), error: failed.error };
  }

  const send = createEffectSender(deps, client);

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
