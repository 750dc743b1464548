import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import type { Logger } from "pino";
import { permanentConnectError } from "./connect-errors.ts";
import { describeServer } from "./describe-server.ts";

export type PgLog = Pick<Logger, "info" | "warn" | "error">;

export interface OpenPostgresOptions {
  log: PgLog;
  /** How long start-up waits for the server to answer before giving up (default 30 s). */
  connectTimeoutMs?: number;
  /** Connections per replica (default 10). Every replica holds up to this many, plus one for LISTEN. */
  poolSize?: number;
  /** Apply migrations/pg before returning (default true). */
  migrate?: boolean;
}

const migrationsFolder = fileURLToPath(new URL("../../../migrations/pg", import.meta.url));

/** pg_advisory_lock key held while migrating, so replicas starting together migrate exactly once. */
export const MIGRATION_LOCK_KEY = 0x636f756e; // "coun"

export { describeServer };

const reason = (error: unknown): string =>
  error instanceof Error ? error.message || (error as { code?: string }).code || error.name : String(error);

/**
 * Opens a pool on `url`, waits for the server with bounded retry, then
 * migrates under an advisory lock. The URL is node-postgres's
 * (pg-connection-string): TLS follows `?sslmode=` — `verify-full` (also what
 * `require`/`verify-ca` mean there: the certificate must verify; a private CA
 * via `&sslrootcert=/path/ca.pem`), `no-verify` (encrypted, unverified),
 * `disable`; `&uselibpqcompat=true` gives libpq's exact meanings instead.
 */
export async function openPostgres(url: string, options: OpenPostgresOptions): Promise<pg.Pool> {
  const { log } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  const server = describeServer(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // A write waits this long at most for a connection before it counts as unavailable.
    connectionTimeoutMillis: 5_000,
    application_name: "countersign",
  });
  // An idle pooled connection that dies (server restart, network) emits here; without a
  // listener that would crash the process. The pool drops it and opens a new one on demand.
  pool.on("error", (error) => log.warn({ err: error }, `PostgreSQL connection at ${server} lost (idle)`));

  const deadline = performance.now() + connectTimeoutMs;
  let backoff = 100;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await pool.query("SELECT 1");
      break;
    } catch (error) {
      const permanent = permanentConnectError(error);
      if (permanent !== null) {
        await pool.end().catch(() => undefined);
        throw new Error(`PostgreSQL at ${server}: ${permanent}: ${reason(error)}`, { cause: error });
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        await pool.end().catch(() => undefined);
        throw new Error(
          `PostgreSQL at ${server} did not answer within ${Math.round(connectTimeoutMs / 1000)} s (${attempt} attempts): ${reason(error)}`,
          { cause: error },
        );
      }
      log.warn(`waiting for PostgreSQL at ${server} (attempt ${attempt}): ${reason(error)}`);
      await sleep(Math.min(backoff, left));
      backoff = Math.min(backoff * 2, 2_000);
    }
  }
  if (options.migrate !== false) {
    try {
      await migratePostgres(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }
  return pool;
}

/** Applies migrations/pg on one connection holding a session advisory lock: the first replica migrates, the others wait and find nothing to do. */
export async function migratePostgres(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder });
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

/** How many migrations the database at `url` has had applied (0 when it has none, or cannot be read). */
export async function countMigrations(url: string): Promise<number> {
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
}
