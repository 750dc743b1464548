import { existsSync, rmSync } from "node:fs";
import Database from "better-sqlite3";
import type { AuditReader } from "../ports.ts";
import { createSqliteAuditReader } from "./audit.ts";

/**
 * SQLite files as operator commands see them, next to a running service:
 * read-only connections (WAL readers never block its writer, nor it them),
 * online backups, migration counts. Reached through storage/open.ts.
 */

/** A problem with the file a command names (missing, :memory:, not migrated): the caller's usage error. */
export class DatabaseFileError extends Error {}

export interface SqliteFile {
  audit: AuditReader;
  /** SQLite's online backup API: one consistent snapshot even while the service writes. */
  backup(target: string): Promise<void>;
  close(): void;
}

function fileOf(sqlite: Database.Database): SqliteFile {
  return {
    audit: createSqliteAuditReader(sqlite),
    backup: async (target) => void (await sqlite.backup(target)),
    close: () => sqlite.close(),
  };
}

/**
 * Opens DATABASE_PATH read-only, without migrating; refused (DatabaseFileError)
 * for :memory:, a missing file, or one without the hash-chained audit log yet.
 */
export function openReadOnlyFile(path: string): SqliteFile {
  if (path === ":memory:")
    throw new DatabaseFileError("DATABASE_PATH: :memory: is not a file this command can open");
  if (!existsSync(path)) throw new DatabaseFileError(`DATABASE_PATH: ${path} does not exist`);
  const sqlite = new Database(path, { readonly: true, fileMustExist: true });
  sqlite.pragma("busy_timeout = 5000");
  const columns = sqlite.prepare("SELECT name FROM pragma_table_info('audit_log')").pluck().all();
  if (!columns.includes("hash")) {
    sqlite.close();
    throw new DatabaseFileError(
      `DATABASE_PATH: ${path} has no hash-chained audit log yet; run \`countersign migrate\` (or start the service) first`,
    );
  }
  return fileOf(sqlite);
}

/**
 * A file just written by backup(), made a single self-contained file (the copy
 * carries the source's WAL flag: rollback journal instead, no -wal/-shm beside
 * it), then opened read-only to check its audit chain.
 */
export function openBackupCopy(path: string): SqliteFile {
  const writable = new Database(path);
  writable.pragma("journal_mode = DELETE");
  writable.close();
  for (const side of ["-wal", "-shm"]) rmSync(`${path}${side}`, { force: true });
  return fileOf(new Database(path, { readonly: true }));
}

const applied = (sqlite: Database.Database): number => {
  const exists = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE name = '__drizzle_migrations'").get();
  return exists
    ? (sqlite.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n
    : 0;
};

/** How many migrations a file has had applied, without changing it (0 when it does not exist yet). */
export function appliedMigrations(path: string): number {
  if (!existsSync(path)) return 0;
  const sqlite = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return applied(sqlite);
  } finally {
    sqlite.close();
  }
}
