import { type CountersignClient, isRetryable } from "../client.ts";
import type { RequestResource } from "../types.ts";

/** Sends one MCP progress notification (only when the client gave a progressToken). */
export type ProgressSink = (progress: number, total: number | undefined, message: string) => Promise<void>;

export interface WaitOptions {
  /** Seconds the caller asked to wait; `Infinity` waits until the request is final. */
  seconds: number;
  /**
   * Seconds one tool call may hold without progress notifications: beyond it the call
   * answers "still pending" so a client's request timeout never fires first.
   */
  budgetSeconds: number;
  /** Present when the client asked for progress: then the whole wait is held, with a notification every interval. */
  progress?: ProgressSink;
  progressIntervalMs: number;
  signal: AbortSignal;
}

export interface WaitResult {
  request: RequestResource;
  waitedSeconds: number;
}

/**
 * Long-polls a request until it leaves pending or the wait ends. With progress the whole
 * wait is held (clients that reset their timeout on progress never time out); without,
 * at most `budgetSeconds`.
 */
export async function waitForDecision(
  client: CountersignClient,
  initial: RequestResource,
  options: WaitOptions,
): Promise<WaitResult> {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const limit = options.progress ? options.seconds : Math.min(options.seconds, options.budgetSeconds);
  let current = initial;
  if (current.status !== "pending" || limit <= 0) return { request: current, waitedSeconds: 0 };

  const { progress } = options;
  let last = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  if (progress) {
    const total = Number.isFinite(options.seconds) ? options.seconds : undefined;
    const tell = () => {
      // MCP requires each notification's progress to be larger than the last.
      last = Math.max(last + 0.001, Math.round(elapsed() * 10) / 10);
      const of = total === undefined ? "" : ` of ${total}`;
      progress(
        last,
        total,
        `${current.id} pending: waiting for a decision in Slack (${Math.round(elapsed())} s${of})`,
      ).catch(() => {});
    };
    tell();
    timer = setInterval(tell, options.progressIntervalMs);
  }
  try {
    let failures = 0;
    while (current.status === "pending") {
      const remaining = limit - elapsed();
      if (remaining < 1) break;
      const id = current.id;
      try {
        current = await client.getRequest(id, {
          wait: Math.min(60, Math.floor(remaining)),
          signal: options.signal,
        });
        failures = 0;
      } catch (error) {
        // A restart or a blip of countersign must not end a long wait: retry within it.
        if (options.signal.aborted || !isRetryable(error) || limit - elapsed() < 2) throw error;
        failures += 1;
        await pause(Math.min(5_000, 250 * 2 ** failures), options.signal);
      }
    }
  } finally {
    if (timer) clearInterval(timer);
  }
  return { request: current, waitedSeconds: Math.round(elapsed() * 10) / 10 };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
