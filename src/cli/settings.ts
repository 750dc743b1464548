import { type Env, loadEnv, type SlackEnv } from "../config/env.ts";
import { DatabaseFileError, openReadOnlyFile, openStorage, type SqliteFile } from "../storage/open.ts";
import type { Backend } from "../storage/ports.ts";
import { UsageError } from "./io.ts";

/** The env as `npm start` reads it; Slack settings only when the command needs them. */
export function cliEnv(source: Record<string, string | undefined>, requireSlack: true): SlackEnv;
export function cliEnv(source: Record<string, string | undefined>, requireSlack?: boolean): Env;
export function cliEnv(source: Record<string, string | undefined>, requireSlack = false): Env {
  const result = loadEnv(source, { requireSlack });
  if (!result.ok) throw new UsageError("invalid environment", result.problems);
  return result.env;
}

/**
 * Opens DATABASE_PATH read-only, without migrating: safe next to the running
 * service (WAL readers never block its writer, nor it them).
 */
export function openReadOnly(env: Env): SqliteFile {
  try {
    return openReadOnlyFile(env.databasePath);
  } catch (error) {
    if (error instanceof DatabaseFileError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * DATABASE_URL set: the PostgreSQL backend (migrated only when `migrate`), for
 * the commands that work on either database. The caller closes it.
 */
export async function openPostgresForCli(env: Env, options: { migrate: boolean }): Promise<Backend | null> {
  if (env.databaseUrl === null) return null;
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  try {
    return await openStorage(
      {
        postgresUrl: env.databaseUrl,
        connectTimeoutMs: Math.min(env.databaseConnectTimeoutMs, 10_000),
        poolSize: 2,
      },
      { log: quiet, migrate: options.migrate },
    );
  } catch (error) {
    throw new UsageError(`DATABASE_URL: ${error instanceof Error ? error.message : String(error)}`);
  }
}
