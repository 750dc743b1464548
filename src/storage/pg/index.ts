import type { Backend } from "../ports.ts";
import { createPgAuditReader } from "./audit-reader.ts";
import { createPgBus } from "./bus.ts";
import { createPgKeyStore } from "./keys.ts";
import { type OpenPostgresOptions, openPostgres } from "./open.ts";
import { createPgSession } from "./session.ts";
import { createPgStore } from "./store.ts";
import { createPgWrites, type PgWritesOptions } from "./writes.ts";

export interface PostgresBackendOptions extends OpenPostgresOptions {
  redact?: <T>(value: T) => T;
  writes?: PgWritesOptions;
}

/**
 * The PostgreSQL backend: waits for the server, migrates once (advisory lock),
 * and wires the store, writes, keys, audit reader and LISTEN/NOTIFY bus on one
 * pool. close() ends the LISTEN connection and the pool.
 */
export async function openPostgresBackend(url: string, options: PostgresBackendOptions): Promise<Backend> {
  const pool = await openPostgres(url, options);
  const session = createPgSession(pool);
  const bus = createPgBus(
    session,
    { connectionString: url, application_name: "countersign-listen" },
    options,
  );
  try {
    await bus.ready;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  const writes = createPgWrites(session, options.writes);
  return {
    dialect: "postgres",
    store: createPgStore(session, options.redact === undefined ? {} : { redact: options.redact }),
    writes,
    keys: createPgKeyStore(session),
    audit: createPgAuditReader(pool),
    bus,
    async close(): Promise<void> {
      writes.close();
      await bus.close();
      await pool.end();
    },
  };
}

export { describeServer, migratePostgres, openPostgres } from "./open.ts";
export { createPgSession } from "./session.ts";
export { createPgStore } from "./store.ts";
export { createPgWrites, isConnectionError } from "./writes.ts";
