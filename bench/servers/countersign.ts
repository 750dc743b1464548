/**
 * countersign under test, in its own process: the real startService with the
 * production defaults (outbox concurrency and polling, the default sweep cron,
 * info logging to stdout — which the parent points at a log file).
 */
import { parseConfig } from "../../src/config/file.ts";
import { createLogger } from "../../src/log.ts";
import { startService } from "../../src/service.ts";
import { childOptions, ready, serveRpc } from "../lib/child-side.ts";
import { BOT_TOKEN, SIGNING_SECRET } from "../lib/fixtures.ts";

export interface CountersignChildOptions {
  configYaml: string;
  /** SQLite: the database file. Ignored when databaseUrl is set. */
  dbPath?: string;
  /** PostgreSQL (DATABASE_URL): several children may share one database as replicas. */
  databaseUrl?: string;
  /** DATABASE_POOL_SIZE (PostgreSQL only; the service's default when unset). */
  poolSize?: number;
  slackApiUrl: string;
  logLevel?: string;
}

const options = childOptions<CountersignChildOptions>();
const parsed = parseConfig(options.configYaml, {});
if (!parsed.ok) throw new Error(`bench config invalid: ${JSON.stringify(parsed.problems)}`);

const service = await startService({
  config: parsed.config,
  slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, appToken: null, apiUrl: options.slackApiUrl },
  port: 0,
  host: "127.0.0.1",
  database:
    options.databaseUrl !== undefined
      ? {
          postgresUrl: options.databaseUrl,
          ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
        }
      : (options.dbPath ?? ":memory:"),
  log: createLogger(options.logLevel ?? "info"),
  sweepCron: "*/10 * * * * *",
});

serveRpc(
  {
    memory: () => process.memoryUsage(),
    /** CPU time this process used (µs): contention from other work inflates it far less than wall time. */
    cpu: () => process.cpuUsage(),
    outboxDepth: () => service.deps.store.outboxDepth(),
    gc: () => {
      (globalThis as { gc?: () => void }).gc?.();
      return process.memoryUsage();
    },
  },
  () => service.stop(),
);
ready({ port: service.port, url: service.url });
