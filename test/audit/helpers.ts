import Database from "better-sqlite3";
import pg from "pg";
import type { AuditEvent } from "../../src/audit/events.ts";
import {
  type ChainRow,
  ChainVerifier,
  type VerifyOptions,
  type VerifyResult,
} from "../../src/audit/verify.ts";
import { createPgAuditReader } from "../../src/storage/pg/audit-reader.ts";
import { openPostgresBackend } from "../../src/storage/pg/index.ts";
import { iterateAudit } from "../../src/storage/sqlite/audit.ts";
import { type OpenDatabase, openDatabase } from "../../src/storage/sqlite/open.ts";
import { createStore } from "../../src/storage/sqlite/store.ts";
import { postgresUrlFor } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";

/**
 * Appends n varied events through the store (the production path) and closes
 * the connection: `target` is a SQLite file, or a postgres:// URL (a PostgreSQL backend).
 */
export async function seedEvents(target: string, n: number, from = 0): Promise<void> {
  const postgres = target.startsWith("postgres://")
    ? await openPostgresBackend(target, { log: quiet, poolSize: 2 })
    : null;
  const database = postgres === null ? openDatabase(target) : null;
  const store = postgres?.store ?? createStore(database as OpenDatabase);
  try {
    for (let i = from; i < from + n; i += 1) {
      await store.tx(async () =>
        store.audit(
          i % 3 === 0 ? null : `req_${i % 7}`,
          1_700_000_000_000 + i * 1000,
          (["created", "routed", "posted", "refused_click"] as const)[i % 4] as AuditEvent,
          i % 2 === 0 ? `slack:U0LEAD${i}` : null,
          i % 5 === 0 ? undefined : { n: i, z: "last", a: ["first", { nested: i / 3 }] },
        ),
      );
    }
  } finally {
    database?.sqlite.close();
    await postgres?.close();
  }
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** What seedEvents/tamper take for a harness path: the file, or on PostgreSQL the URL of the database standing for it. */
export async function dbTarget(path: string): Promise<string> {
  return onPostgres ? await postgresUrlFor(path) : path;
}

export function verifyDb(path: string, options: VerifyOptions = { start: "genesis" }): VerifyResult {
  const sqlite = new Database(path, { readonly: true });
  try {
    const verifier = new ChainVerifier(options);
    for (const row of iterateAudit(sqlite)) if (!verifier.push(row)) break;
    return verifier.finish();
  } finally {
    sqlite.close();
  }
}

/** Runs SQL against the file the way an operator with the sqlite3 shell would (or psql, for a postgres:// URL). */
export async function tamper(target: string, sql: string): Promise<void> {
  if (target.startsWith("postgres://")) {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
    return;
  }
  const sqlite = new Database(target);
  sqlite.exec(sql);
  sqlite.close();
}

/**
 * The audit chain rows of whichever database the harness gave `path` (SQLite:
 * the file; PostgreSQL: the database postgresUrlFor(path) names), as
 * `countersign audit verify/export` read them, handed to fn.
 */
export async function withAuditRows<T>(
  path: string,
  fn: (rows: Iterable<ChainRow> | AsyncIterable<ChainRow>) => Promise<T>,
): Promise<T> {
  if (!onPostgres) {
    const sqlite = new Database(path, { readonly: true });
    try {
      return await fn(iterateAudit(sqlite));
    } finally {
      sqlite.close();
    }
  }
  const pool = new pg.Pool({ connectionString: await postgresUrlFor(path), max: 1 });
  try {
    return await fn(createPgAuditReader(pool).iterate());
  } finally {
    await pool.end();
  }
}

/** verifyDb on whichever database the harness gave `path`. */
export function verifyHarnessDb(
  path: string,
  options: VerifyOptions = { start: "genesis" },
): Promise<VerifyResult> {
  return withAuditRows(path, async (rows) => {
    const verifier = new ChainVerifier(options);
    for await (const row of rows) if (!verifier.push(row)) break;
    return verifier.finish();
  });
}
