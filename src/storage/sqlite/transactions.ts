import { AsyncLocalStorage } from "node:async_hooks";
import type Database from "better-sqlite3";

/**
 * Transactions on the one better-sqlite3 connection, for async callers.
 *
 * A transaction body is async (the store interface is shared with
 * PostgreSQL), but on SQLite every statement completes synchronously, so a
 * body normally runs to its end within one event-loop turn. Still, two
 * bodies must never share the connection's transaction: an exclusive lane
 * runs one outermost transaction at a time, and AsyncLocalStorage tells a
 * nested call (a savepoint inside the running body) from a concurrent one
 * (which waits for the lane).
 */
export function createSqliteTransactions(sqlite: Database.Database) {
  const context = new AsyncLocalStorage<{ depth: number }>();
  let busy = false;
  const waiting: (() => void)[] = [];

  /** Runs fn alone on the connection; starts synchronously when the lane is free. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const start = (): Promise<T> => {
      busy = true;
      let result: Promise<T>;
      try {
        result = context.run({ depth: 0 }, fn);
      } catch (error) {
        result = Promise.reject(error);
      }
      return result.finally(() => {
        busy = false;
        waiting.shift()?.();
      });
    };
    if (!busy) return start();
    return new Promise<void>((resolve) => waiting.push(resolve)).then(start);
  }

  /** Whether the caller runs inside a transaction of this connection. */
  const inTx = (): boolean => context.getStore() !== undefined;

  async function savepoint<T>(ctx: { depth: number }, fn: () => Promise<T>): Promise<T> {
    const name = `sp${ctx.depth}`;
    ctx.depth += 1;
    sqlite.exec(`SAVEPOINT ${name}`);
    try {
      const value = await fn();
      sqlite.exec(`RELEASE ${name}`);
      return value;
    } catch (error) {
      // Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled the whole transaction back.
      if (sqlite.inTransaction) {
        sqlite.exec(`ROLLBACK TO ${name}`);
        sqlite.exec(`RELEASE ${name}`);
      }
      throw error;
    } finally {
      ctx.depth -= 1;
    }
  }

  /** One IMMEDIATE transaction around fn; nested calls become savepoints. */
  function tx<T>(fn: () => Promise<T>): Promise<T> {
    const ctx = context.getStore();
    if (ctx !== undefined) return savepoint(ctx, fn);
    return exclusive(async () => {
      sqlite.exec("BEGIN IMMEDIATE");
      try {
        const value = await fn();
        sqlite.exec("COMMIT");
        return value;
      } catch (error) {
        if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
        throw error;
      }
    });
  }

  /** A single write: joins the running transaction, or is its own. */
  function write<T>(fn: () => T): Promise<T> {
    if (inTx()) {
      try {
        return Promise.resolve(fn());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return tx(async () => fn());
  }

  return {
    tx,
    write,
    exclusive,
    inTx,
    savepoint: <T>(fn: () => Promise<T>): Promise<T> => {
      const ctx = context.getStore();
      if (ctx === undefined) throw new Error("savepoint outside a transaction");
      return savepoint(ctx, fn);
    },
    /** Whether a transaction runs (or waits) on the connection now. */
    get busy(): boolean {
      return busy;
    },
  };
}

export type SqliteTransactions = ReturnType<typeof createSqliteTransactions>;
