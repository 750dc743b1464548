import type { Env } from "../../config/env.ts";
import {
  acquireDatabaseLock,
  appliedMigrations,
  type DatabaseLock,
  DatabaseLockedError,
  describeServer,
  openStorage,
} from "../../storage/open.ts";
import { type CliIo, EXIT, type ExitCode, line, UsageError } from "../io.ts";
import { cliEnv, openPostgresForCli } from "../settings.ts";

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
  const before = await appliedMigrations({ path: env.databasePath });
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const backend = await openStorage(env.databasePath, { log: quiet });
  try {
    const total = await appliedMigrations({ path: env.databasePath });
    const head = await backend.audit.head();
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
    await backend.close();
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
  const count = () => appliedMigrations({ postgresUrl: url });
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
