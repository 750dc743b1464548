import { performance } from "node:perf_hooks";
import type Database from "better-sqlite3";
import type { WriteOptions, Writes, WritesOptions } from "../ports.ts";
import { isBusy, isUnavailable, StoreUnavailable, sqliteCode } from "../unavailable.ts";
import type { SqliteTransactions } from "./transactions.ts";

/** How long a write waits for a foreign write lock, in total, before it is refused (default 2 s). */
export type GroupCommitOptions = WritesOptions;

export type { WriteOptions } from "../ports.ts";

type Job = {
  fn: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  deadline: number;
};

const toUnavailable = (error: unknown): StoreUnavailable => {
  if (error instanceof StoreUnavailable) return error;
  const code = sqliteCode(error);
  const why = isBusy(code)
    ? "another process holds the database's write lock"
    : code?.startsWith("SQLITE_FULL")
      ? "the disk is full"
      : `the database refused the write (${code ?? String(error)})`;
  return new StoreUnavailable(`cannot store this now: ${why}`, code, { cause: error });
};

/**
 * Group commit: the writes that arrive in one event-loop turn run in one
 * IMMEDIATE transaction, each in its own savepoint, so one failing write never
 * fails the others, and each caller's promise settles only after the COMMIT.
 *
 * better-sqlite3 is synchronous, so a lock held by another process blocks the
 * whole event loop for `busy_timeout`: that timeout is kept short (see
 * open.ts) and the wait happens here instead, between attempts, with the loop
 * free. A write that cannot be stored within its budget is refused with
 * StoreUnavailable and nothing of it is stored.
 */
export function createGroupCommit(
  { sqlite, txs }: { sqlite: Database.Database; txs: SqliteTransactions },
  options: GroupCommitOptions = {},
): Writes {
  const budgetMs = options.budgetMs ?? 2_000;
  const backoffMs = options.backoffMs ?? 20;
  const maxBackoffMs = options.maxBackoffMs ?? 250;
  let queue: Job[] = [];
  let scheduled: "turn" | "timer" | null = null;
  let timer: NodeJS.Timeout | null = null;
  let backoff = backoffMs;
  /** The last attempt to commit failed, and why; null once a commit succeeded. */
  let failing: { at: number; error: StoreUnavailable } | null = null;

  function schedule(delayMs: number): void {
    if (delayMs <= 0) {
      if (scheduled !== null) return;
      scheduled = "turn";
      setImmediate(flush);
      return;
    }
    if (scheduled !== null) return;
    scheduled = "timer";
    timer = setTimeout(flush, delayMs);
  }

  function flush(): void {
    scheduled = null;
    timer = null;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    void txs
      .exclusive(() => commit(batch))
      .catch((error: unknown) => {
        for (const job of batch) job.reject(error);
      });
  }

  async function commit(batch: Job[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      sqlite.exec("BEGIN IMMEDIATE");
      try {
        for (const job of batch) {
          try {
            // Its own SAVEPOINT, rolled back alone when fn throws.
            outcomes.push({ ok: true, value: await txs.savepoint(job.fn) });
          } catch (error) {
            // SQLite rolls the whole transaction back on some errors (SQLITE_FULL,
            // SQLITE_IOERR): then nothing of the batch is stored, and the rest must
            // not run outside it (autocommit) either.
            if (!sqlite.inTransaction) throw error;
            outcomes.push({ ok: false, error });
          }
        }
        sqlite.exec("COMMIT");
      } catch (error) {
        if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
        throw error;
      }
    } catch (error) {
      // BEGIN or COMMIT failed: nothing of this batch is stored.
      const refused = toUnavailable(error);
      failing = { at: performance.now(), error: refused };
      if (!isBusy(sqliteCode(error))) {
        // One write rolled the batch back (it filled the disk, say): the others
        // are tried again on their own, so its failure is not theirs.
        if (batch.length > 1) await one(batch);
        else batch[0]?.reject(refused);
        return;
      }
      const now = performance.now();
      const retry = batch.filter((job) => {
        if (now + backoff <= job.deadline) return true;
        job.reject(refused);
        return false;
      });
      queue = [...retry, ...queue];
      if (queue.length > 0) schedule(backoff);
      backoff = Math.min(maxBackoffMs, backoff * 2);
      return;
    }
    backoff = backoffMs;
    // A write refused inside the batch (the disk filled up mid-way) also means writes fail.
    const refused = outcomes.find((o) => !o.ok && isUnavailable(o.error));
    if (refused && !refused.ok) failing = { at: performance.now(), error: toUnavailable(refused.error) };
    else if (outcomes.some((o) => o.ok)) failing = null;
    batch.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) job.resolve(outcome.value);
      else job.reject(isUnavailable(outcome?.error) ? toUnavailable(outcome?.error) : outcome?.error);
    });
    if (queue.length > 0) schedule(0);
  }

  /** Each job in its own transaction: after a batch failed for a reason other than a lock. */
  async function one(jobs: Job[]): Promise<void> {
    for (const job of jobs) {
      try {
        sqlite.exec("BEGIN IMMEDIATE");
        try {
          const value = await txs.savepoint(job.fn);
          sqlite.exec("COMMIT");
          job.resolve(value);
        } catch (error) {
          if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
          throw error;
        }
      } catch (error) {
        const unavailable = isUnavailable(error);
        if (unavailable) failing = { at: performance.now(), error: toUnavailable(error) };
        job.reject(unavailable ? toUnavailable(error) : error);
      }
    }
    if (queue.length > 0) schedule(0);
  }

  return {
    /**
     * Runs fn (it may use store.tx, which nests as a savepoint) in the next
     * group commit. Resolves with its result after the COMMIT;
     * rejects with fn's own error, or with StoreUnavailable when nothing
     * could be stored within the budget.
     */
    run<T>(fn: () => Promise<T>, writeOptions: WriteOptions = {}): Promise<T> {
      // Already inside a transaction of this connection: join it (a savepoint), as on PostgreSQL.
      if (txs.inTx()) return txs.savepoint(fn);
      return new Promise<T>((resolve, reject) => {
        queue.push({
          fn,
          resolve: resolve as (value: unknown) => void,
          reject,
          deadline: performance.now() + (writeOptions.budgetMs ?? budgetMs),
        });
        // While backing off from a lock, new writes wait for the retry instead of hammering it.
        if (scheduled === null && timer === null) schedule(0);
      });
    },
    /** Null when the last commit went through; otherwise why writes fail, and since when (performance.now()). */
    get failing(): { at: number; error: StoreUnavailable } | null {
      return failing;
    },
    /**
     * Whether a write lock could be taken this instant (no waiting); false while
     * another process holds it. Taking it clears a failure that was only a lock.
     */
    async canWrite(): Promise<boolean> {
      if (sqlite.inTransaction || txs.busy) return true;
      const busyTimeout = sqlite.pragma("busy_timeout", { simple: true }) as number;
      sqlite.pragma("busy_timeout = 0");
      try {
        sqlite.prepare("BEGIN IMMEDIATE").run();
        sqlite.prepare("ROLLBACK").run();
        if (isBusy(failing?.error.code ?? null)) failing = null;
        return true;
      } catch {
        return false;
      } finally {
        sqlite.pragma(`busy_timeout = ${busyTimeout}`);
      }
    },
    /** Rejects what is still queued (shutdown). */
    close(): void {
      if (timer !== null) clearTimeout(timer);
      const left = queue;
      queue = [];
      for (const job of left) job.reject(new StoreUnavailable("shutting down", null));
    },
  };
}

export type GroupCommit = Writes;

export { isUnavailable, StoreUnavailable };
