import { describeServer } from "./pg/describe-server.ts";
import type { PgLog } from "./pg/open.ts";
import type { Backend, WritesOptions } from "./ports.ts";
import {
  appliedMigrations as appliedSqliteMigrations,
  DatabaseFileError,
  openBackupCopy,
  openReadOnlyFile,
  type SqliteFile,
} from "./sqlite/files.ts";
import {
  acquireDatabaseLock,
  type DatabaseLock,
  DatabaseLockedError,
  isMemoryDatabase,
} from "./sqlite/lock.ts";
import type { OpenDatabase } from "./sqlite/open.ts";

/**
 * The one door to the storage adapters: the service and the CLI choose SQLite
 * or PostgreSQL here, and nowhere else (test/architecture/imports.test.ts
 * fails when anything but this file imports storage/sqlite/ or storage/pg/).
 * Everything past this point sees only the ports (storage/ports.ts).
 *
 * Only the chosen database's adapter (and driver) is loaded, on demand: a
 * SQLite start never loads pg and drizzle's PostgreSQL half, nor the reverse.
 */

/** PostgreSQL: its URL and pool settings (DATABASE_URL, DATABASE_POOL_SIZE, DATABASE_CONNECT_TIMEOUT). */
export interface PostgresDatabase {
  postgresUrl: string;
  poolSize?: number;
  connectTimeoutMs?: number;
}

/** Where the data is: a SQLite path (or an already open SQLite database), or a PostgreSQL server. */
export type DatabaseTarget = string | OpenDatabase | PostgresDatabase;

export interface OpenStorageOptions {
  log: PgLog;
  /** Applied to every audit detail before it is stored. */
  redact?: <T>(value: T) => T;
  /** Write budget and backoff (the same on both databases). */
  writes?: WritesOptions;
  /** PostgreSQL: apply migrations before returning (default true; SQLite always migrates on open). */
  migrate?: boolean;
}

export const isPostgres = (target: DatabaseTarget): target is PostgresDatabase =>
  typeof target !== "string" && "postgresUrl" in target;

/**
 * Opens the storage: SQLite is opened (created) and migrated; PostgreSQL is
 * waited for and migrated once across replicas (advisory lock). The caller closes it.
 */
export async function openStorage(target: DatabaseTarget, options: OpenStorageOptions): Promise<Backend> {
  if (!isPostgres(target)) {
    const { openSqliteBackend } = await import("./sqlite/index.ts");
    return openSqliteBackend(target, {
      ...(options.redact ? { redact: options.redact } : {}),
      ...(options.writes ? { writes: options.writes } : {}),
    });
  }
  const { openPostgresBackend } = await import("./pg/index.ts");
  return await openPostgresBackend(target.postgresUrl, {
    log: options.log,
    ...(options.redact ? { redact: options.redact } : {}),
    ...(target.poolSize === undefined ? {} : { poolSize: target.poolSize }),
    ...(target.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: target.connectTimeoutMs }),
    ...(options.writes ? { writes: options.writes } : {}),
    ...(options.migrate === undefined ? {} : { migrate: options.migrate }),
  });
}

export type { DatabaseLock, OpenDatabase, SqliteFile };
/**
 * SQLite helpers the CLI uses on a file next to the running service (read-only
 * connections, backups): re-exported here so that the CLI, too, reaches the
 * adapters only through this file. openSqliteDatabase opens (creating and
 * migrating) a SQLite file.
 */
export async function openSqliteDatabase(path: string): Promise<OpenDatabase> {
  const { openDatabase } = await import("./sqlite/open.ts");
  return openDatabase(path);
}

/** Migrations applied so far: a SQLite path (0 when the file does not exist) or a PostgreSQL URL. */
export async function appliedMigrations(target: { path: string } | { postgresUrl: string }): Promise<number> {
  if ("path" in target) return appliedSqliteMigrations(target.path);
  return (await import("./pg/open.ts")).countMigrations(target.postgresUrl);
}

export {
  acquireDatabaseLock,
  DatabaseFileError,
  DatabaseLockedError,
  describeServer,
  isMemoryDatabase,
  openBackupCopy,
  openReadOnlyFile,
};
