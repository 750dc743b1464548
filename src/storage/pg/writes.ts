import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { codeOf, isConnectionError } from "../connection-errors.ts";
import type { WriteOptions, Writes, WritesOptions } from "../ports.ts";
import { StoreUnavailable } from "../unavailable.ts";
import { CommitFailed, type PgSession } from "./session.ts";

export { isConnectionError };

/** SQLSTATEs worth running the whole transaction again for. */
const SERIALIZATION_FAILURE = "40001";
const DEADLOCK = "40P01";
/** A racing create with the same idempotency key: the retry finds the winner's row. */
const UNIQUE_VIOLATION = "23505";
const MAX_UNIQUE_RETRIES = 3;

export type PgWritesOptions = WritesOptions;

/**
 * Writes on PostgreSQL: each run() is one transaction on its own pooled
 * connection (no group commit: the server takes concurrent transactions).
 * Serialization failures, deadlocks, a racing idempotent create and a lost
 * connection run it again, with backoff, within the budget; a connection that
 * stays lost past it is refused with StoreUnavailable, nothing stored.
 */
export function createPgWrites(session: PgSession, options: PgWritesOptions = {}): Writes {
  const defaultBudgetMs = options.budgetMs ?? 2_000;
  const backoffMs = options.backoffMs ?? 10;
  const maxBackoffMs = options.maxBackoffMs ?? 250;
  let failing: { at: number; error: StoreUnavailable } | null = null;
  let closed = false;

  const unavailable = (error: unknown): StoreUnavailable => {
    const refused =
      error instanceof StoreUnavailable
        ? error
        : new StoreUnavailable(
            `cannot store this now: the database cannot be reached (${error instanceof Error ? error.message : String(error)})`,
            codeOf(error) ?? null,
            { cause: error },
          );
    failing = { at: performance.now(), error: refused };
    return refused;
  };

  return {
    async run<T>(fn: () => Promise<T>, writeOptions: WriteOptions = {}): Promise<T> {
      if (closed) throw new StoreUnavailable("shutting down", null);
      // Already inside a transaction: join it (a savepoint), the outer run retries.
      if (session.current() !== undefined) return session.tx(fn);
      const deadline = performance.now() + (writeOptions.budgetMs ?? defaultBudgetMs);
      let backoff = backoffMs;
      let uniqueRetries = 0;
      for (;;) {
        try {
          // Waiting for a free connection counts against the budget too.
          const result = await session.tx(
            async () => {
              // Nor does a lock held by another replica outlast it: a click must be
              // answered within Slack's 3 s, stored or refused, never stored after.
              const left = Math.max(10, Math.round(deadline - performance.now()));
              await session.current()?.client.query(`SET LOCAL lock_timeout = ${left}`);
              return fn();
            },
            { waitMs: deadline - performance.now() },
          );
          failing = null;
          return result;
        } catch (error) {
          const code = codeOf(error);
          const connection = isConnectionError(error);
          const retryable =
            (connection && !(error instanceof CommitFailed)) ||
            code === SERIALIZATION_FAILURE ||
            code === DEADLOCK ||
            (code === UNIQUE_VIOLATION && uniqueRetries++ < MAX_UNIQUE_RETRIES);
          const pause = Math.min(backoff, maxBackoffMs);
          if (!retryable || closed || performance.now() + pause > deadline) {
            throw connection ? unavailable(error) : error;
          }
          if (connection) unavailable(error);
          await sleep(pause);
          backoff *= 2;
        }
      }
    },
    get failing() {
      return failing;
    },
    async canWrite(): Promise<boolean> {
      try {
        await session.pool.query("SELECT 1");
        failing = null;
        return true;
      } catch {
        return false;
      }
    },
    close(): void {
      closed = true;
    },
  };
}
