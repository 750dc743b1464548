import type { App } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { createApiRoutes } from "./api/routes.ts";
import { abortOnShutdown, StartupError, shutDown } from "./app/lifecycle.ts";
import { createScheduler } from "./app/scheduler.ts";
import { createSlackApp, SLACK_EVENTS_PATH, startSlackApp } from "./app/slack-receiver.ts";
import { wireDeps } from "./app/wiring.ts";
import type { Deps } from "./approvals/deps.ts";
import type { SweepReport } from "./approvals/sweep.ts";
import { createCallbackWorker } from "./callbacks/deliver.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { AppConfig } from "./config/file.ts";
import { boltLogger } from "./log.ts";
import { createRedactor } from "./redact.ts";
import { registerHome } from "./slack/home.ts";
import { registerListeners } from "./slack/listeners/index.ts";
import { createSlackOutbox, type OutboxOptions } from "./slack/outbox.ts";
import { rethrowNotStored } from "./slack/store-then-ack.ts";
import { createUsergroupDirectory, type UsergroupOptions } from "./slack/usergroups.ts";
import {
  acquireDatabaseLock,
  type DatabaseLock,
  DatabaseLockedError,
  type DatabaseTarget,
  isPostgres,
  openStorage,
} from "./storage/open.ts";
import type { Backend, WritesOptions } from "./storage/ports.ts";

export type { PostgresDatabase } from "./storage/open.ts";
export { StartupError };

export interface ServiceOptions {
  config: AppConfig;
  slack: {
    botToken: string;
    signingSecret: string;
    appToken: string | null;
    apiUrl: string;
    /** SLACK_TEAM_ID: the workspaces answered; unset or null: the bot token's own (auth.test). */
    teamIds?: readonly string[] | null;
  };
  /** User group member lists: cache ages and the background refresh interval. */
  usergroups?: UsergroupOptions;
  port: number;
  /**
   * SQLite: a path (opened and migrated here) or an already open database;
   * PostgreSQL: its URL (waited for, migrated once across replicas).
   */
  database: DatabaseTarget;
  log: Logger;
  clock?: Clock;
  /** node-cron expression of the sweep; null runs no cron (tests call sweepNow). */
  sweepCron: string | null;
  outbox?: OutboxOptions;
  callbacks?: { timeoutMs?: number; pollMs?: number };
  /** How long a replica's claim on a queued Slack call or callback lasts (WORK_LEASE_SECONDS). */
  leaseMs?: number;
  /** How long writes wait for a foreign write lock before they are refused. */
  writes?: WritesOptions;
  /** Bind address; all interfaces when unset. */
  host?: string;
  /** COUNTERSIGN_SIGNING_KEY (PKCS#8 PEM); null or unset: the key stored in the database. */
  signingKey?: string | null;
}

export interface Service {
  deps: Deps;
  app: App;
  port: number;
  url: string;
  /** One sweep at the clock's now; with a budget, stops after that many rows (report.more). */
  sweepNow(budget?: number): Promise<SweepReport>;
  kick(): void;
  /** Slack calls and callback attempts this replica is running now. */
  inFlight(): number;
  stop(): Promise<void>;
}

/**
 * The composition root: opens the storage (storage/open.ts), wires the verbs'
 * dependencies (app/wiring.ts), the Slack app and its receiver with the agent
 * API on the same listener (app/slack-receiver.ts), the Slack outbox, the
 * callback worker and the scheduler (app/scheduler.ts; the sweep runs once at
 * start-up for whatever fell due while down), and stops them in order
 * (app/lifecycle.ts).
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  // One writer per database: a second countersign on the same file stops here, before migrating.
  let lock: DatabaseLock | null = null;
  // Several replicas share a PostgreSQL database; a SQLite file has one writer.
  if (typeof options.database === "string") {
    try {
      lock = acquireDatabaseLock(options.database);
    } catch (error) {
      if (error instanceof DatabaseLockedError) throw new StartupError(error.message);
      throw error;
    }
  }
  try {
    return await startWith(options, lock);
  } catch (error) {
    lock?.release();
    throw error;
  }
}

async function startWith(options: ServiceOptions, lock: DatabaseLock | null): Promise<Service> {
  const redact = createRedactor(options.config.redact);
  // Every log line, whatever logged it, goes through the redactor (CONTRACT §7).
  const log = options.log.child({}, { formatters: { log: (object) => redact(object) } });
  const backend = await openBackend(options.database, {
    redact,
    log,
    ...(options.writes ? { writes: options.writes } : {}),
  });
  try {
    return await startOn(backend, options, log, lock);
  } catch (error) {
    await backend.close().catch(() => undefined);
    throw error;
  }
}

async function startOn(
  backend: Backend,
  options: ServiceOptions,
  log: Logger,
  lock: DatabaseLock | null,
): Promise<Service> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const deps = await wireDeps(backend, { config, clock, log, signingKey: options.signingKey ?? null });

  let stopping = false;
  // Aborted at shutdown: open long-polls answer at once.
  const shutdown = new AbortController();
  const slackLogger = boltLogger(log);
  // Aborted once shutdown's grace runs out: a hung Slack call or callback
  // cannot hold the process; what it carried stays queued for the next start.
  const abortInFlight = new AbortController();
  const outboxClient = new WebClient(options.slack.botToken, {
    fetch: abortOnShutdown(abortInFlight.signal),
    slackApiUrl: options.slack.apiUrl,
    logger: slackLogger,
    // The outbox owns retries: a 429 pauses the channel for its Retry-After.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 15_000,
  });
  const lease = options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs };
  const outbox = createSlackOutbox(deps, outboxClient, { ...lease, ...options.outbox });
  const callbacks = createCallbackWorker(deps, {
    ...lease,
    signal: abortInFlight.signal,
    policy: { allowPrivate: config.callbacks.allow_private_targets },
    ...options.callbacks,
  });
  const kick = () => {
    outbox.kick();
    callbacks.kick();
  };

  const routes = createApiRoutes(deps, {
    stopping: shutdown.signal,
    afterChange: kick,
    slackEndpoints: options.slack.appToken === null ? [SLACK_EVENTS_PATH] : [],
  });
  // Calls made while answering Slack (views.open, usergroups) must be quick: one retry at most.
  const clientOptions = { slackApiUrl: options.slack.apiUrl, retryConfig: { retries: 1 }, timeout: 2_500 };
  const apiClient = new WebClient(options.slack.botToken, { ...clientOptions, logger: slackLogger });
  const app = await createSlackApp({
    ...options,
    routes,
    clientOptions,
    apiClient,
    log,
    slackLogger,
    metrics: deps.metrics,
  });
  // Member lists are fetched before the listener opens and kept fresh in the
  // background, so a click never waits on usergroups.users.list.
  const directory = createUsergroupDirectory(apiClient, clock, { ...options.usergroups, log });
  const usergroups = Object.values(config.roles).flatMap((role) => (role.usergroup ? [role.usergroup] : []));
  await directory.warm(usergroups);
  directory.start(usergroups);
  registerListeners(app, {
    deps,
    isMember: (group, user) => directory.isMember(group, user),
    kickOutbox: kick,
  });
  registerHome(app, deps, (group, user) => directory.isMember(group, user));
  app.error(async (error) => {
    log.error({ err: error }, "Slack listener failed");
    // Slack must not see a success for an interaction that was not stored.
    rethrowNotStored(error);
  });
  const { server, port } = await startSlackApp(app, { ...options, log });

  const scheduler = createScheduler(deps, {
    sweepCron: options.sweepCron,
    audit: backend.audit,
    log,
    afterChange: kick,
    stopping: () => stopping,
  });
  await scheduler.sweepNow();
  outbox.start();
  callbacks.start();
  await scheduler.logAuditHead("start-up");
  scheduler.start();

  return {
    deps,
    app,
    port,
    url: `http://127.0.0.1:${port}`,
    sweepNow: scheduler.sweepNow,
    kick,
    inFlight: () => outbox.inFlight + callbacks.inFlight,
    async stop() {
      if (stopping) return;
      stopping = true;
      await shutDown({
        shutdown,
        abortInFlight,
        scheduler,
        app,
        server,
        workers: [outbox, callbacks],
        directory,
        beforeClose: () => scheduler.logAuditHead("shutdown"),
        close: async () => {
          await backend.close();
          lock?.release();
        },
      });
    },
  };
}

async function openBackend(
  database: DatabaseTarget,
  options: { redact: <T>(value: T) => T; log: Logger; writes?: WritesOptions },
): Promise<Backend> {
  if (!isPostgres(database)) return openStorage(database, options);
  try {
    return await openStorage(database, options);
  } catch (error) {
    throw new StartupError(`DATABASE_URL: ${error instanceof Error ? error.message : String(error)}`);
  }
}
