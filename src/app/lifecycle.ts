import type { Server } from "node:http";
import type { App } from "@slack/bolt";

/** A start-up problem with a message meant for the operator, not a stack trace. */
export class StartupError extends Error {}

/** Slack calls and callbacks still in flight this long after SIGTERM are aborted (they stay queued). */
export const SHUTDOWN_GRACE_MS = 4_000;

/**
 * Start-up steps on state every replica shares (the signing key): replicas
 * starting together may collide on a unique index; the loser reads what the
 * winner stored.
 */
export async function shared<T>(step: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i += 1) {
    try {
      return await step();
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * i));
    }
  }
}

/** A fetch whose requests are also aborted by `signal` (shutdown), on top of their own timeout. */
export function abortOnShutdown(signal: AbortSignal): typeof fetch {
  return (input, init) =>
    fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
}

export interface ShutdownParts {
  /** Aborted at shutdown's start: open long-polls answer at once. */
  shutdown: AbortController;
  /** Aborted once the grace runs out: a hung Slack call or callback cannot hold the process. */
  abortInFlight: AbortController;
  scheduler: { stop(): Promise<void> };
  app: App;
  server: Server | null;
  workers: { stop(settleMs: number): Promise<void> }[];
  /** The user group directory's background refresh. */
  directory: { stop(): void };
  /** Last words before the database closes (the audit head). */
  beforeClose: () => Promise<void>;
  close: () => Promise<void>;
}

/**
 * The order countersign stops in: no new sweeps, long-polls answered, the
 * listener closed (idle keep-alive connections too), Slack calls and callbacks
 * given SHUTDOWN_GRACE_MS and then aborted (what they carried stays queued, its
 * retry stored before the close), the audit head logged, the database closed.
 */
export async function shutDown(parts: ShutdownParts): Promise<void> {
  const abortTimer = setTimeout(() => parts.abortInFlight.abort(), SHUTDOWN_GRACE_MS);
  abortTimer.unref();
  await parts.scheduler.stop();
  parts.directory.stop();
  parts.shutdown.abort();
  // Keep-alive connections that go idle after close() would hold it open
  // until the client hangs up: close them as they go idle.
  const { server } = parts;
  const idle = setInterval(() => server?.closeIdleConnections(), 25);
  server?.closeIdleConnections();
  try {
    await parts.app.stop();
  } finally {
    clearInterval(idle);
  }
  // Calls still out at the grace's end are aborted; their retries are stored before the close.
  const settleMs = SHUTDOWN_GRACE_MS + 2_000;
  await Promise.all(parts.workers.map((w) => w.stop(settleMs)));
  clearTimeout(abortTimer);
  await parts.beforeClose();
  await parts.close();
}
