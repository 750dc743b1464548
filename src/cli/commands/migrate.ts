import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import pg from "pg";
import type { Env } from "../../config/env.ts";
import {
  acquireDatabaseLock,
  auditHead,
  type DatabaseLock,
  DatabaseLockedError,
  describeServer,
  openSqliteDatabase,
} from "../../storage/open.ts";
import { type CliIo, EXIT, type ExitCode, line, UsageError } from "../io.ts";
import { cliEnv, openPostgresForCli } from "../settings.ts";

const applied = (sqlite: Database.Database): number => {
  const exists = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE name = '__drizzle_migrations'").get();
  return exists
    ? (sqlite.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n
    : 0;
};

/** `migrate`: applies every pending migration (and chains old audit events on that upgrade). */
export async function migrateCommand(io: CliIo): Promise<ExitCode> {
  const env = cliEnv(io.env);
  if (env.databaseUrl !== null) return migratePostgresCommand(io, env);
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
  const { sqlite } = await openSqliteDatabase(env.databasePath);
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

/**
 * PostgreSQL: migrations run under an advisory lock (a replica starting at the
 * same moment waits, then finds nothing to do), so this is safe with the
 * service running; it is how a rolling deploy applies a new schema first.
 */
async function migratePostgresCommand(io: CliIo, env: Env): Promise<ExitCode> {
  const url = env.databaseUrl as string;
  const count = async (): Promise<number> => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const { rows } = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM drizzle.__drizzle_migrations WHERE to_regclass('drizzle.__drizzle_migrations') IS NOT NULL",
      );
      return Number(rows[0]?.n ?? 0);
    } catch {
      return 0;
    } finally {
      await pool.end();
    }
  };
  const before = await count().catch(() => 0);
  const backend = await openPostgresForCli(env, { migrate: true });
  try {
    const total = await count();
    const head = await backend?.audit.head();
    line(
      io.stdout,
      `migrate: applied ${total - before} new migration(s); postgres://${describeServer(url)} is at the current schema (${total} in all)`,
    );
    line(
      io.stdout,
      `audit chain head: ${head == null ? "none (no events yet)" : `event ${head.seq} ${head.hash}`}`,
    );
    return EXIT.ok;
  } finally {
    await backend?.close();
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
