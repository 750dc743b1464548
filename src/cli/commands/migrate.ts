import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { auditHead } from "../../db/audit.ts";
import { acquireDatabaseLock, type DatabaseLock, DatabaseLockedError } from "../../db/lock.ts";
import { openDatabase } from "../../db/open.ts";
import { type CliIo, EXIT, type ExitCode, line, UsageError } from "../io.ts";
import { cliEnv } from "../settings.ts";

const applied = (sqlite: Database.Database): number => {
  const exists = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE name = '__drizzle_migrations'").get();
  return exists
    ? (sqlite.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n
    : 0;
};

/** `migrate`: applies every pending migration (and chains old audit events on that upgrade). */
export function migrateCommand(io: CliIo): ExitCode {
  const env = cliEnv(io.env);
  if (env.databasePath === ":memory:") throw new UsageError("DATABASE_PATH: :memory: has nothing to migrate");
  // The service migrates at start-up; changing the schema under a running one is refused.
  let lock: DatabaseLock | null;
  try {
    lock = acquireDatabaseLock(env.databasePath);
  } catch (error) {
    if (!(error instanceof DatabaseLockedError)) throw error;
    throw new UsageError(`${error.message}; stop the service first (it migrates when it starts)`);
  }
  const before = existsSync(env.databasePath) ? appliedMigrations(env.databasePath) : 0;
  const { sqlite } = openDatabase(env.databasePath);
  try {
    const total = applied(sqlite);
    const head = auditHead(sqlite);
    line(
      io.stdout,
      `migrate: applied ${total - before} new migration(s); ${env.databasePath} is at the current schema (${total} in all)`,
    );
    line(
      io.stdout,
      `audit chain head: ${head === null ? "none (no events yet)" : `event ${head.seq} ${head.hash}`}`,
    );
    return EXIT.ok;
  } finally {
    sqlite.close();
    lock?.release();
  }
}

/** How many migrations a file has had applied, without changing it (0 when it is new). */
export function appliedMigrations(path: string): number {
  const sqlite = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return applied(sqlite);
  } finally {
    sqlite.close();
  }
}
