import { AsyncLocalStorage } from "node:async_hooks";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import type pg from "pg";
import * as schema from "./schema.ts";

export type PgDb = NodePgDatabase<typeof schema>;

/**
 * COMMIT itself failed. When the connection was lost on the way, the server may
 * have committed or not: such a transaction is never run again (it could apply
 * twice), it is reported as not stored and the caller retries from the top.
 */
export class CommitFailed extends Error {
  constructor(cause: unknown) {
    super(`COMMIT failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "CommitFailed";
  }
}

/** The running transaction: its connection, savepoint depth and what waits for its commit. */
interface TxContext {
  client: pg.PoolClient;
  depth: number;
  afterCommit: (() => void)[];
  /** This transaction holds the audit chain's advisory lock, and (once known) the chain's head. */
  audit: { locked: boolean; head: { seq: number; hash: string } | null };
}

/**
 * One pool shared by every PostgreSQL store object, and the transaction that is
 * running in this async context (AsyncLocalStorage). drizzle gets a router
 * instead of the pool: each query, prepared once, goes to the running
 * transaction's connection when there is one, else to any pooled connection.
 */
export function createPgSession(pool: pg.Pool) {
  const als = new AsyncLocalStorage<TxContext>();
  const router = {
    query: (config: unknown, values?: unknown) => {
      const target = als.getStore()?.client ?? pool;
      return (target.query as (c: unknown, v?: unknown) => Promise<unknown>)(config, values);
    },
  };
  // The router is no Pool, so drizzle never opens transactions itself: tx() below does.
  const db: PgDb = drizzle({ client: router as unknown as pg.Pool, schema });

  /**
   * A pooled connection, waiting at most `waitMs` when all are in use (the pool's
   * own connectionTimeoutMillis otherwise); one that arrives too late goes back.
   */
  async function acquire(waitMs: number | undefined): Promise<pg.PoolClient> {
    if (waitMs === undefined) return pool.connect();
    const pending = pool.connect();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `timeout exceeded when trying to connect (no free connection in ${Math.round(waitMs)} ms)`,
            ),
          ),
        Math.max(0, waitMs),
      );
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (error) {
      pending.then(
        (client) => client.release(),
        () => undefined,
      );
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async function tx<T>(fn: () => Promise<T>, options: { waitMs?: number } = {}): Promise<T> {
    const outer = als.getStore();
    if (outer !== undefined) return savepoint(outer, fn);
    const client = await acquire(options.waitMs);
    const ctx: TxContext = { client, depth: 0, afterCommit: [], audit: { locked: false, head: null } };
    let broken: Error | undefined;
    // A connection that dies while checked out emits "error" on the client (the pool only
    // listens while it is idle); unheard, that would crash the process. The running query
    // fails on its own; the client is then discarded, not returned to the pool.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const result = await als.run(ctx, fn);
      try {
        await client.query("COMMIT");
      } catch (error) {
        throw new CommitFailed(error);
      }
      for (const cb of ctx.afterCommit) cb();
      return result;
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackError) {
        // The connection is gone (the server drops what was not committed): never reuse the client.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  async function savepoint<T>(ctx: TxContext, fn: () => Promise<T>): Promise<T> {
    ctx.depth += 1;
    const name = `sp_${ctx.depth}`;
    const audit = { ...ctx.audit };
    const pending = ctx.afterCommit.length;
    try {
      await ctx.client.query(`SAVEPOINT ${name}`);
      const result = await fn();
      await ctx.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      // When the connection itself failed this fails too: the original error is the one to report.
      await ctx.client
        .query(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`)
        .catch(() => undefined);
      // Locks taken since the savepoint are released by the rollback, and its notices never happened.
      ctx.audit = audit;
      ctx.afterCommit.length = pending;
      throw error;
    } finally {
      ctx.depth -= 1;
    }
  }

  return {
    pool,
    db,
    tx,
    /** The running transaction, if any. */
    current: (): TxContext | undefined => als.getStore(),
    /** Runs cb after the running transaction commits (at once when there is none); dropped on rollback. */
    afterCommit(cb: () => void): void {
      const ctx = als.getStore();
      if (ctx === undefined) cb();
      else ctx.afterCommit.push(cb);
    },
  };
}

export type PgSession = ReturnType<typeof createPgSession>;
