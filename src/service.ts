import type { RequestListener, Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { App, HTTPReceiver, SocketModeReceiver } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import { answerClientErrors, frontDoor } from "./api/front-door.ts";
import { createApiRoutes } from "./api/routes.ts";
import type { Deps } from "./approvals/deps.ts";
import { RequestEvents } from "./approvals/events.ts";
import { type SweepReport, sweep } from "./approvals/sweep.ts";
import { createCallbackWorker } from "./callbacks/deliver.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { AppConfig } from "./config/file.ts";
import type { Backend } from "./db/backend.ts";
import type { GroupCommitOptions } from "./db/group-commit.ts";
import { acquireDatabaseLock, type DatabaseLock, DatabaseLockedError } from "./db/lock.ts";
import type { OpenDatabase } from "./db/open.ts";
import { boltLogger } from "./log.ts";
import { createMetrics } from "./metrics.ts";
import { createRedactor } from "./redact.ts";
import { registerHome } from "./slack/home.ts";
import { registerListeners } from "./slack/listeners.ts";
import { createSlackOutbox, type OutboxOptions } from "./slack/outbox.ts";
import { rethrowNotStored } from "./slack/store-then-ack.ts";
import { teamGuard } from "./slack/team-guard.ts";
import { createUsergroupDirectory, type UsergroupOptions } from "./slack/usergroups.ts";
import { backfillTokens } from "./tokens/backfill.ts";
import { createTokenIssuer, maxTokenTtlMs } from "./tokens/issuer.ts";
import { ensureSigningKey } from "./tokens/keys.ts";

const SLACK_EVENTS_PATH = "/slack/events";
/** Slack calls and callbacks still in flight this long after SIGTERM are aborted (they stay queued). */
const SHUTDOWN_GRACE_MS = 4_000;

/** Rows one slice of a cron sweep handles before yielding (≈ 140 µs each). */
const SWEEP_SLICE = 200;

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
  database: string | OpenDatabase | PostgresDatabase;
  log: Logger;
  clock?: Clock;
  /** node-cron expression of the sweep; null runs no cron (tests call sweepNow). */
  sweepCron: string | null;
  outbox?: OutboxOptions;
  callbacks?: { timeoutMs?: number; pollMs?: number };
  /** How long a replica's claim on a queued Slack call or callback lasts (WORK_LEASE_SECONDS). */
  leaseMs?: number;
  /** How long writes wait for a foreign write lock before they are refused. */
  writes?: GroupCommitOptions;
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
 * Builds and starts countersign: database, Bolt app with the agent API as
 * custom routes on the same listener, the Slack outbox, the callback worker
 * and the sweep (run once at start-up for whatever fell due while down).
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
  const { config } = options;
  const redact = createRedactor(config.redact);
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
  const { store, keys, writes } = backend;
  const events = new RequestEvents(backend.bus);
  const metrics = createMetrics(
    {
      outboxDepth: store.outboxDepth,
      pendingCallbacks: store.pendingCallbacks,
      oldestPendingCreatedAt: store.oldestPendingCreatedAt,
      countPending: store.countPending,
      now: () => clock.now(),
    },
    config,
  );
  metrics.seed(await store.countByStatus());
  const suppliedKey = options.signingKey ?? null;
  // Before anything listens: every approval from now on has a key to sign with.
  const signingKey = await shared(() =>
    ensureSigningKey(keys, { now: clock.now(), retainMs: maxTokenTtlMs(config), supplied: suppliedKey }),
  );
  if (signingKey.created) log.info({ kid: signingKey.kid }, "created the approval-token signing key");
  const tokens = createTokenIssuer({ keys, config, suppliedKey });
  const backfilled = await backfillTokens({ store, tokens }, clock.now());
  if (backfilled > 0)
    log.info({ count: backfilled }, "issued approval tokens for requests approved before tokens existed");
  const deps: Deps = { store, writes, config, clock, events, metrics, log, tokens };

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
  let identity = await checkBotToken(apiClient, log);
  // Our own receivers (what App would build) so that a front door sees every
  // request before Bolt does: see api/front-door.ts for what it refuses.
  const door = {
    slackEndpoints: options.slack.appToken === null ? [SLACK_EVENTS_PATH] : [],
    now: () => systemClock.now(),
    log,
  };
  let receiver: HTTPReceiver | SocketModeReceiver;
  if (options.slack.appToken === null) {
    const http = new HTTPReceiver({
      signingSecret: options.slack.signingSecret,
      endpoints: [SLACK_EVENTS_PATH],
      port: options.port,
      customRoutes: routes,
      logger: slackLogger,
    });
    http.requestListener = frontDoor(http.requestListener, door);
    receiver = http;
  } else {
    receiver = new SocketModeReceiver({
      appToken: options.slack.appToken,
      logger: slackLogger,
      customRoutes: routes,
      installerOptions: { port: options.port, clientOptions },
    });
    // Its HTTP server (the agent API) is created now and listens at start(); it is not public.
    const server = (receiver as unknown as { httpServer?: Server }).httpServer;
    if (server) {
      const inner = server.listeners("request") as RequestListener[];
      server.removeAllListeners("request");
      server.on(
        "request",
        frontDoor((req, res) => {
          for (const listener of inner) listener.call(server, req, res);
        }, door),
      );
      answerClientErrors(server);
    }
  }
  const app = new App({
    // Our own authorize (instead of `token`) so an unreachable Slack at start-up
    // does not crash the process: auth.test is retried on the next interaction.
    authorize: async () => {
      identity ??= await checkBotToken(apiClient, log);
      return {
        botToken: options.slack.botToken,
        ...(identity?.botId ? { botId: identity.botId } : {}),
        ...(identity?.botUserId ? { botUserId: identity.botUserId } : {}),
      };
    },
    receiver,
    logger: slackLogger,
    clientOptions,
  });
  const configuredTeams = options.slack.teamIds?.length ? new Set(options.slack.teamIds) : null;
  app.use(
    teamGuard({
      allowed: async () => {
        if (configuredTeams !== null) return configuredTeams;
        identity ??= await checkBotToken(apiClient, log);
        return identity?.teamId ? new Set([identity.teamId]) : null;
      },
      log,
      metrics,
    }),
  );
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

  let started: unknown;
  if (options.slack.appToken === null) {
    started = await app.start(
      options.host === undefined ? options.port : { port: options.port, host: options.host },
    );
  } else {
    // Socket Mode: Bolt opens the HTTP listener (the agent API) at once, but its
    // start() resolves only once the WebSocket is up, retrying for as long as
    // Slack is unreachable. Agents must not wait for Slack, so connect in the
    // background and go on as soon as PORT answers.
    app.start().then(
      () => log.info("Socket Mode connected to Slack"),
      (error: unknown) => log.error({ err: error }, "Socket Mode could not connect to Slack"),
    );
    await waitForPort(options.port, options.host ?? "127.0.0.1");
  }
  const httpServer = httpServerOf(started);
  if (httpServer !== null) answerClientErrors(httpServer);
  const port = listeningPort(started, options.port);

  const sweepNow = async (budget?: number): Promise<SweepReport> => {
    const report = await sweep(deps, clock.now(), budget);
    if (report.expired + report.escalated + report.reminded > 0) {
      log.info(report, "sweep");
      kick();
    }
    return report;
  };
  await sweepNow();
  outbox.start();
  callbacks.start();
  const logAuditHead = async (why: string) =>
    log.info({ audit_head: await backend.audit.head() }, `audit chain head (${why})`);
  await logAuditHead("start-up");
  // Once a day, so the head can be anchored outside the database (docs/audit.md).
  const headTask = cron.schedule("0 0 * * *", () => logAuditHead("daily"), { name: "audit-head" });
  let task: ScheduledTask | null = null;
  if (options.sweepCron !== null) {
    task = cron.schedule(
      options.sweepCron,
      async () => {
        try {
          // Replicas sharing one database fire together: the first to claim
          // this tick (its wall-clock second, as cron fires by) sweeps it.
          const tick = Math.floor(systemClock.now() / 1000);
          if (!(await store.claimTick("sweep", tick))) return;
          log.debug({ tick }, "sweep tick claimed");
          // Slices of SWEEP_SLICE rows with the event loop handed back in
          // between, so a large backlog never stalls the API or Slack acks.
          for (;;) {
            if (stopping || !(await sweepNow(SWEEP_SLICE)).more) break;
            await new Promise((resolve) => setImmediate(resolve));
          }
        } catch (error) {
          log.error({ err: error }, "sweep failed; retrying at the next tick");
        }
      },
      { noOverlap: true, name: "sweep" },
    );
  }

  return {
    deps,
    app,
    port,
    url: `http://127.0.0.1:${port}`,
    sweepNow,
    kick,
    inFlight: () => outbox.inFlight + callbacks.inFlight,
    async stop() {
      if (stopping) return;
      stopping = true;
      const abortTimer = setTimeout(() => abortInFlight.abort(), SHUTDOWN_GRACE_MS);
      abortTimer.unref();
      await task?.stop();
      await headTask.stop();
      directory.stop();
      shutdown.abort();
      // Keep-alive connections that go idle after close() would hold it open
      // until the client hangs up: close them as they go idle.
      const server = httpServerOf(started);
      const idle = setInterval(() => server?.closeIdleConnections(), 25);
      server?.closeIdleConnections();
      try {
        await app.stop();
      } finally {
        clearInterval(idle);
      }
      // Calls still out at the grace's end are aborted; their retries are stored before the close.
      const settleMs = SHUTDOWN_GRACE_MS + 2_000;
      await Promise.all([outbox.stop(settleMs), callbacks.stop(settleMs)]);
      clearTimeout(abortTimer);
      await logAuditHead("shutdown");
      await backend.close();
      lock?.release();
    },
  };
}

/** PostgreSQL: its URL and pool settings (DATABASE_URL, DATABASE_POOL_SIZE, DATABASE_CONNECT_TIMEOUT). */
export interface PostgresDatabase {
  postgresUrl: string;
  poolSize?: number;
  connectTimeoutMs?: number;
}

async function openBackend(
  database: string | OpenDatabase | PostgresDatabase,
  options: { redact: <T>(value: T) => T; log: Logger; writes?: GroupCommitOptions },
): Promise<Backend> {
  // Only the chosen database's adapter (and driver) is loaded: less memory and a faster start.
  if (typeof database === "string" || !("postgresUrl" in database)) {
    const { openSqliteBackend } = await import("./db/sqlite-backend.ts");
    return openSqliteBackend(database, options);
  }
  const { openPostgresBackend } = await import("./db/pg/index.ts");
  try {
    return await openPostgresBackend(database.postgresUrl, {
      log: options.log,
      redact: options.redact,
      ...(database.poolSize === undefined ? {} : { poolSize: database.poolSize }),
      ...(database.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: database.connectTimeoutMs }),
      ...(options.writes ? { writes: options.writes } : {}),
    });
  } catch (error) {
    throw new StartupError(`DATABASE_URL: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Start-up steps on state every replica shares (the signing key): replicas
 * starting together may collide on a unique index; the loser reads what the
 * winner stored.
 */
async function shared<T>(step: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i += 1) {
    try {
      return await step();
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * i));
    }
  }
}

/** A fetch whose requests are also aborted by `signal` (shutdown), on top of their own timeout. */
function abortOnShutdown(signal: AbortSignal): typeof fetch {
  return (input, init) =>
    fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
}

/** Resolves once something accepts TCP connections on host:port (bounded). */
async function waitForPort(port: number, host: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new StartupError(`PORT: nothing is listening on ${host}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** app.start() returns the http.Server in HTTP mode, something else in Socket Mode. */
function httpServerOf(started: unknown): Server | null {
  const server = started as Partial<Server> | undefined;
  return typeof server?.address === "function" && typeof server.closeIdleConnections === "function"
    ? (server as Server)
    : null;
}

function listeningPort(started: unknown, fallback: number): number {
  const address = httpServerOf(started)?.address() as AddressInfo | null | undefined;
  return address?.port ?? fallback;
}

/** Errors from auth.test that mean the token itself is wrong: start-up stops. */
const BAD_TOKEN = new Set([
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "not_allowed_token_type",
]);

/**
 * auth.test at start-up: a token Slack rejects stops start-up with a clear
 * message; an unreachable Slack only warns (messages wait in the outbox).
 */
async function checkBotToken(
  client: WebClient,
  log: Logger,
): Promise<{ botId?: string; botUserId?: string; teamId?: string } | null> {
  try {
    const result = await client.auth.test();
    return {
      ...(result.bot_id ? { botId: result.bot_id } : {}),
      ...(result.user_id ? { botUserId: result.user_id } : {}),
      ...(result.team_id ? { teamId: result.team_id } : {}),
    };
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    if (code !== undefined && BAD_TOKEN.has(code)) {
      throw new StartupError(`SLACK_BOT_TOKEN: Slack rejected the token (${code})`);
    }
    log.warn(
      { err: error },
      "Slack is not reachable (auth.test failed); starting anyway, messages will wait in the outbox",
    );
    return null;
  }
}

/** A start-up problem with a message meant for the operator, not a stack trace. */
export class StartupError extends Error {}
