import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { WriteOptions, Writes } from "../backend.ts";
import { StoreUnavailable } from "../group-commit.ts";
import { CommitFailed, type PgSession } from "./session.ts";

/** SQLSTATEs worth running the whole transaction again for. */
const SERIALIZATION_FAILURE = "40001";
const DEADLOCK = "40P01";
/** A racing create with the same idempotency key: the retry finds the winner's row. */
const UNIQUE_VIOLATION = "23505";
const MAX_UNIQUE_RETRIES = 3;

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);

/** The SQLSTATE or network code of an error or of what caused it (drizzle wraps the driver's error). */
const codeOf = (error: unknown): string | undefined => {
  for (let e = error, depth = 0; e !== null && typeof e === "object" && depth < 5; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
};

/**
 * The server cannot be reached or refuses work for now: the connection failed or
 * was cut, the pool had no connection in time, the server is shutting down or
 * starting (57P0x), is out of connections (53300) or a connection exception (08xxx).
 */
export function isConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code) || code.startsWith("08") || code.startsWith("57P") || code === "53300")
      return true;
  }
  if (error instanceof AggregateError && error.errors.some(isConnectionError)) return true;
  const message = error instanceof Error ? error.message : "";
  const lost =
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed|Client was closed/i;
  if (lost.test(message)) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== error && isConnectionError(cause);
}

export interface PgWritesOptions {
  /** How long a write keeps trying in total before it is refused (default 2 s). */
  budgetMs?: number;
  /** First pause between attempts; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

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
            null,
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
          const result = await session.tx(fn, { waitMs: deadline - performance.now() });
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
