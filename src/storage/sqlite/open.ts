import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { auditNeedsChaining, chainExistingEvents } from "./audit.ts";
import * as schema from "./schema.ts";
import { createSqliteTransactions, type SqliteTransactions } from "./transactions.ts";

export type Db = BetterSQLite3Database<typeof schema>;

export interface OpenDatabase {
  sqlite: Database.Database;
  db: Db;
  /** The connection's transactions (shared by the store, the key store and group commit). */
  txs: SqliteTransactions;
}

/** The longest a single statement blocks the event loop waiting for another process's lock. */
export const BUSY_TIMEOUT_MS = 50;

const migrationsFolder = fileURLToPath(new URL("../../../migrations", import.meta.url));

/**
 * Opens (creating if needed) the SQLite file and applies every migration in
 * migrations/ before anything else touches it (chaining old audit events on
 * the upgrade that introduces the chain).
 */
export function openDatabase(path: string): OpenDatabase {
  if (path !== ":memory:" && !path.startsWith("file:")) mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  // WAL + synchronous=NORMAL is durable across a killed process (kill -9);
  // only an OS crash or power loss can drop the last commits.
  if (path !== ":memory:") sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  // better-sqlite3 is synchronous: a foreign write lock blocks the whole event
  // loop for busy_timeout. Keep it short; writes that may wait do so between
  // attempts with the loop free (group-commit.ts).
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma("foreign_keys = ON");
  const db = drizzle(sqlite, { schema });
  const upgradeChain = auditNeedsChaining(sqlite);
  migrate(db, { migrationsFolder });
  // Events stored before the audit chain existed are chained once, right after the migration that added it.
  if (upgradeChain) chainExistingEvents(sqlite);
  return { sqlite, db, txs: createSqliteTransactions(sqlite) };
}
