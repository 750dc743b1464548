import type { Deps } from "../approvals/deps.ts";
import type { CallbackRow } from "../db/schema.ts";
import { createWorkLoop } from "../work-loop.ts";
import { CALLBACK_RETRY_WINDOW_MS, callbackBackoffMs, signWebhook } from "./sign.ts";

export interface CallbackWorkerOptions {
  timeoutMs?: number;
  pollMs?: number;
  concurrency?: number;
  fetch?: typeof fetch;
}

/**
 * Delivers queued `request.decided` callbacks, signed the Standard Webhooks
 * way. The webhook-id stays the same across retries (receivers dedupe on it);
 * every attempt is audited; a 2xx ends it, a 410 stops it, anything else is
 * retried with exponential backoff and jitter for CALLBACK_RETRY_WINDOW_MS.
 */
export function createCallbackWorker(deps: Deps, options: CallbackWorkerOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pollMs = options.pollMs ?? 1_000;
  const concurrency = options.concurrency ?? 8;
  const doFetch = options.fetch ?? fetch;
  const inFlight = new Map<string, Promise<void>>();
  const loop = createWorkLoop(pump, { pollMs });
  const kick = loop.kick;

  function pump(): void {
    const free = concurrency - inFlight.size;
    if (free > 0) {
      const due = deps.store.dueCallbacks(deps.clock.now(), free + inFlight.size);
      for (const row of due) {
        if (inFlight.size >= concurrency) break;
        if (inFlight.has(row.id)) continue;
        const run = attempt(row)
          .catch((error: unknown) =>
            deps.log.error({ err: error, webhookId: row.id }, "callback bookkeeping failed"),
          )
          .finally(() => {
            inFlight.delete(row.id);
            kick();
          });
        inFlight.set(row.id, run);
      }
    }
  }

  async function attempt(row: CallbackRow): Promise<void> {
    const agent = deps.config.agents.find((a) => a.id === row.agent);
    const started = deps.clock.now();
    let status: number | null = null;
    let error: string | null = null;
    if (!agent?.callback_secret) {
      error = `agent "${row.agent}" has no callback_secret configured`;
    } else {
      const timestamp = Math.floor(started / 1000);
      try {
        const response = await doFetch(row.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "countersign-webhooks/1",
            "webhook-id": row.id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signWebhook(agent.callback_secret, row.id, timestamp, row.body),
          },
          body: row.body,
          redirect: "manual",
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = response.status;
        await response.body?.cancel().catch(() => undefined);
      } catch (e) {
        error =
          e instanceof Error
            ? e.name === "TimeoutError"
              ? `timed out after ${timeoutMs} ms`
              : e.message
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
    deps.store.tx(() => {
      deps.store.callbackAttempt({
        id: row.id,
        nextAttemptAt,
        status,
        error: error ?? (delivered ? null : `HTTP ${status}`),
        deliveredAt: delivered ? now : null,
        failedAt: gone || expired ? now : null,
      });
      deps.store.audit(row.requestId, now, delivered ? "callback_delivered" : "callback_failed", null, {
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
