import type { Deps } from "../approvals/deps.ts";
import type { CallbackRecord } from "../domain/records.ts";
import { createWorkLoop, keepLeased } from "../work-loop.ts";
import { type PostCallback, postCallback } from "./post.ts";
import { CALLBACK_RETRY_WINDOW_MS, callbackBackoffMs, signWebhook } from "./sign.ts";
import type { TargetPolicy } from "./target.ts";

export interface CallbackWorkerOptions {
  /** Gives up on one attempt after this long (retried later). */
  timeoutMs?: number;
  /** Gives up on one attempt when no connection is made within this long. */
  connectTimeoutMs?: number;
  pollMs?: number;
  /** Attempts in flight at once, across agents… */
  concurrency?: number;
  /** …and for one agent, so one agent's slow endpoint never holds up another's callbacks. */
  perAgent?: number;
  /** Where callbacks may go (SSRF): private targets only when the config allows them. */
  policy?: TargetPolicy;
  /** Aborts attempts in flight (shutdown); they are retried after the next start. */
  signal?: AbortSignal;
  post?: PostCallback;
  /** How long a claimed callback is this replica's (default CALLBACK_LEASE_MS). */
  leaseMs?: number;
}

/**
 * Delivers queued `request.decided` callbacks, signed the Standard Webhooks
 * way. The webhook-id stays the same across retries (receivers dedupe on it);
 * every attempt is audited; a 2xx ends it, a 410 stops it, anything else is
 * retried with exponential backoff and jitter for CALLBACK_RETRY_WINDOW_MS.
 */
/** How long a claimed callback is one replica's: longer than an attempt (connect + timeout). */
const CALLBACK_LEASE_MS = 120_000;

export function createCallbackWorker(deps: Deps, options: CallbackWorkerOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pollMs = options.pollMs ?? 1_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 3_000;
  const concurrency = options.concurrency ?? 8;
  const perAgent = options.perAgent ?? 2;
  const leaseMs = options.leaseMs ?? CALLBACK_LEASE_MS;
  const policy = options.policy ?? { allowPrivate: false };
  const post = options.post ?? postCallback;
  const inFlight = new Map<string, Promise<void>>();
  const agentLoad = new Map<string, number>();
  const loop = createWorkLoop(pump, {
    pollMs,
    onError: (error) => deps.log.error({ err: error }, "callback pass failed; retrying at the next poll"),
  });
  const kick = loop.kick;

  async function pump(): Promise<void> {
    const free = concurrency - inFlight.size;
    if (free > 0) {
      // Agents at their limit are left out of the query, so their backlog cannot crowd out the others.
      const busy = [...agentLoad].filter(([, n]) => n >= perAgent).map(([agent]) => agent);
      const now = deps.clock.now();
      const due = await deps.store.dueCallbacks(now, free + inFlight.size, busy);
      for (const row of due) {
        if (inFlight.size >= concurrency) break;
        if (inFlight.has(row.id) || (agentLoad.get(row.agent) ?? 0) >= perAgent) continue;
        // Exactly one replica delivers it; a replica that dies leaves it to the others after the lease.
        if (!(await deps.store.leaseCallback(row.id, now, leaseMs))) continue;
        agentLoad.set(row.agent, (agentLoad.get(row.agent) ?? 0) + 1);
        const release = keepLeased(
          leaseMs,
          () => deps.store.renewCallback(row.id, deps.clock.now() + leaseMs),
          (error) => deps.log.warn({ err: error, webhookId: row.id }, "could not renew a callback claim"),
        );
        const run = attempt(row)
          .catch((error: unknown) =>
            deps.log.error({ err: error, webhookId: row.id }, "callback bookkeeping failed"),
          )
          .finally(() => {
            release();
            inFlight.delete(row.id);
            const left = (agentLoad.get(row.agent) ?? 1) - 1;
            if (left > 0) agentLoad.set(row.agent, left);
            else agentLoad.delete(row.agent);
            kick();
          });
        inFlight.set(row.id, run);
      }
    }
  }

  async function attempt(row: CallbackRecord): Promise<void> {
    const agent = deps.config.agents.find((a) => a.id === row.agent);
    const started = deps.clock.now();
    let status: number | null = null;
    let error: string | null = null;
    if (!agent?.callback_secret) {
      error = `agent "${row.agent}" has no callback_secret configured`;
    } else {
      const timestamp = Math.floor(started / 1000);
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        status = await post(row.url, {
          headers: {
            "content-type": "application/json",
            "user-agent": "countersign-webhooks/1",
            "webhook-id": row.id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signWebhook(agent.callback_secret, row.id, timestamp, row.body),
          },
          body: row.body,
          signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
          connectTimeoutMs,
          policy,
        });
      } catch (e) {
        error = timeout.aborted
          ? `timed out after ${timeoutMs} ms`
          : options.signal?.aborted
            ? "aborted at shutdown"
            : e instanceof Error
              ? e.message
              : String(e);
      }
    }
    const now = deps.clock.now();
    const delivered = status !== null && status >= 200 && status < 300;
    const gone = status === 410;
    // One jittered delay, used both to decide whether to give up and to schedule the retry.
    const backoff = callbackBackoffMs(row.attempts);
    const expired = !delivered && !gone && now - row.createdAt + backoff > CALLBACK_RETRY_WINDOW_MS;
    const result = delivered ? "delivered" : gone ? "gone" : expired ? "gave_up" : "retry";
    const nextAttemptAt = result === "retry" ? now + backoff : null;
    await deps.writes.run(async () => {
      await deps.store.callbackAttempt({
        id: row.id,
        nextAttemptAt,
        status,
        error: error ?? (delivered ? null : `HTTP ${status}`),
        deliveredAt: delivered ? now : null,
        failedAt: gone || expired ? now : null,
      });
      await deps.store.audit(row.requestId, now, delivered ? "callback_delivered" : "callback_failed", null, {
        webhook_id: row.id,
        attempt: row.attempts + 1,
        status,
        error,
        result,
        ...(nextAttemptAt === null ? {} : { next_attempt_at: new Date(nextAttemptAt).toISOString() }),
      });
    });
    deps.metrics.callbackAttempt(result);
    if (!delivered)
      deps.log.warn(
        { webhookId: row.id, requestId: row.requestId, status, error, result },
        "callback not delivered",
      );
  }

  return {
    start: loop.start,
    kick,
    /** Attempts running now (claimed, not yet recorded). */
    get inFlight(): number {
      return inFlight.size;
    },
    async stop(timeoutMs = 10_000): Promise<void> {
      loop.stop();
      await Promise.race([
        Promise.allSettled([...inFlight.values()]),
        new Promise((r) => setTimeout(r, timeoutMs).unref()),
      ]);
    },
  };
}

export type CallbackWorker = ReturnType<typeof createCallbackWorker>;
