import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { AppConfig } from "../../src/config/file.ts";
import { type FakeSlack, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import {
  blockActionsPayload,
  postToApp,
  viewSubmissionPayload,
} from "../../src/fake-slack/slack-requests.ts";
import { type PostgresDatabase, type Service, startService } from "../../src/service.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import type { UsergroupOptions } from "../../src/slack/usergroups.ts";
import type { GroupCommitOptions } from "../../src/storage/sqlite/group-commit.ts";
import { type OpenDatabase, openDatabase } from "../../src/storage/sqlite/open.ts";
import { FakeClock } from "./clock.ts";
import { TOKENS, testConfig } from "./config.ts";
import { REFUND } from "./contract-example.ts";
import { freshPostgresUrl, onPostgres } from "./postgres.ts";

export const SIGNING_SECRET = "test-signing-secret";
export const BOT_TOKEN = "xoxb-test-token";

export interface HarnessOptions {
  config?: AppConfig;
  /** A database file path (kept across restarts) instead of :memory:. */
  dbPath?: string;
  /** How long a claim on queued work lasts (WORK_LEASE_SECONDS); after a crash, a restart waits this long on PostgreSQL. */
  leaseMs?: number;
  /** An already open database (a test that needs the service's own connection, e.g. to fill its "disk"). */
  database?: OpenDatabase;
  /** PostgreSQL only: this database URL (e.g. through a proxy the test can cut) instead of a fresh one. */
  postgresUrl?: string;
  /** Group commit settings (how long writes wait for a foreign lock). */
  writes?: GroupCommitOptions;
  clock?: FakeClock;
  slack?: FakeSlack;
  callbacks?: { timeoutMs?: number; pollMs?: number };
  /** Listen on this port (e.g. to restart on the same URL); default an ephemeral one. */
  port?: number;
  /** COUNTERSIGN_SIGNING_KEY as the service receives it (PKCS#8 PEM). */
  signingKey?: string;
  /** User groups the fake Slack knows from the start (when the harness starts its own fake). */
  usergroups?: Record<string, string[]>;
  /** The service's user group cache settings (e.g. a short background refresh). */
  usergroupCache?: UsergroupOptions;
  /** SLACK_TEAM_ID as the service receives it. */
  teamIds?: string[];
  /** Runs on the fake Slack before the service starts (e.g. Slack failing from the very start). */
  beforeStart?: (slack: FakeSlack) => void;
}

export interface Harness {
  service: Service;
  slack: FakeSlack;
  clock: FakeClock;
  config: AppConfig;
  logs: string[];
  url: string;
  api(method: string, path: string, body?: unknown, opts?: ApiCallOptions): Promise<ApiResult>;
  create(body?: Record<string, unknown>, opts?: ApiCallOptions): Promise<ApiResult>;
  click(user: string, action: "approve" | "reject", requestId: string, opts?: ClickOptions): Promise<number>;
  submitReject(user: string, requestId: string, reason: string): Promise<{ status: number; json?: unknown }>;
  /** Waits until the outbox and callback queue are empty. */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ApiCallOptions {
  token?: string | null;
  headers?: Record<string, string>;
  raw?: string;
}
export interface ApiResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
  json: any;
  headers: Headers;
}
export interface ClickOptions {
  channel?: string;
  ts?: string;
  username?: string;
}

export { REFUND };

/** A real service on an ephemeral port, with a fake Slack over HTTP and a fake clock. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new FakeClock();
  const slack =
    options.slack ??
    (await startFakeSlack({
      validateBlocks: (b) => validateMessage(b),
      ...(options.usergroups ? { usergroups: options.usergroups } : {}),
    }));
  options.beforeStart?.(slack);
  const config = options.config ?? testConfig();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const database = await testDatabase(options);
  const service = await startService({
    config,
    slack: {
      botToken: BOT_TOKEN,
      signingSecret: SIGNING_SECRET,
      appToken: null,
      apiUrl: slack.url,
      ...(options.teamIds ? { teamIds: options.teamIds } : {}),
    },
    ...(options.usergroupCache ? { usergroups: options.usergroupCache } : {}),
    port: options.port ?? 0,
    host: "127.0.0.1",
    database,
    log: pino({ level: "debug" }, sink),
    clock,
    sweepCron: null,
    outbox: { pollMs: 20 },
    callbacks: { pollMs: 20, ...options.callbacks },
    signingKey: options.signingKey ?? null,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.writes ? { writes: options.writes } : {}),
  });
  const url = service.url;

  const api: Harness["api"] = async (method, path, body, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? TOKENS.support : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined = opts.raw;
    if (payload === undefined && body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(`${url}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  };

  const harness: Harness = {
    service,
    slack,
    clock,
    config,
    logs,
    url,
    api,
    create: (body = REFUND, opts) => api("POST", "/v1/requests", body, opts),
    async click(user, action, requestId, opts = {}) {
      // Only when the caller does not say where the message is (the database may be down on purpose).
      const row =
        opts.channel !== undefined && opts.ts !== undefined ? undefined : await postedRow(service, requestId);
      const res = await postToApp(
        `${url}/slack/events`,
        SIGNING_SECRET,
        blockActionsPayload({
          user: { id: user, username: opts.username ?? user.toLowerCase() },
          actionId: action,
          value: requestId,
          channelId: opts.channel ?? row?.slackChannel ?? "C0SUPPORT",
          messageTs: opts.ts ?? row?.slackTs ?? "1.000100",
        }),
      );
      return res.status;
    },
    async submitReject(user, requestId, reason) {
      const res = await postToApp(
        `${url}/slack/events`,
        SIGNING_SECRET,
        viewSubmissionPayload({
          user: { id: user, username: user.toLowerCase() },
          callbackId: "reject",
          privateMetadata: requestId,
          values: { reason: { reason: { type: "plain_text_input", value: reason } } },
        }),
      );
      return { status: res.status, json: res.json };
    },
    async settle(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      const { store } = service.deps;
      while (Date.now() < deadline) {
        service.kick();
        if ((await store.outboxDepth()) === 0 && (await store.pendingCallbacks()) === 0) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(
        `not settled: outbox ${await store.outboxDepth()}, callbacks ${await store.pendingCallbacks()}`,
      );
    },
    async stop() {
      await service.stop();
      if (!options.slack) await slack.close();
    },
  };
  return harness;
}

/**
 * The database a harness runs on. With COUNTERSIGN_TEST_DB=postgres the same
 * tests run on PostgreSQL: a fresh database each, and a `dbPath` (a test that
 * restarts on the same data) names the same database every time it is used.
 */
export async function testDatabase(
  options: Pick<HarnessOptions, "database" | "dbPath" | "postgresUrl"> = {},
): Promise<OpenDatabase | string | PostgresDatabase> {
  if (options.postgresUrl !== undefined) {
    if (!onPostgres)
      throw new Error("postgresUrl is for the postgres project: mark the test describe.runIf(onPostgres)");
    return { postgresUrl: options.postgresUrl };
  }
  if (!onPostgres) return options.database ?? options.dbPath ?? openDatabase(":memory:");
  if (options.database !== undefined) {
    throw new Error(
      "this test hands the service a SQLite connection: mark it SQLite-only (describe.skipIf(onPostgres))",
    );
  }
  return {
    postgresUrl:
      options.dbPath === undefined ? await freshPostgresUrl() : await postgresUrlFor(options.dbPath),
  };
}

const namedDatabases = new Map<string, Promise<string>>();
/** One PostgreSQL database per SQLite path a test uses (restarts find their data again). */
export function postgresUrlFor(dbPath: string): Promise<string> {
  let url = namedDatabases.get(dbPath);
  if (url === undefined) {
    url = freshPostgresUrl();
    namedDatabases.set(dbPath, url);
  }
  return url;
}

/** A temp directory for database files, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "countersign-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The request's row once its message is recorded (a person clicks a message
 * that is there; a click counts only on its own request's message), or as it
 * is after a short wait when it never gets one (Slack failing on purpose).
 */
export async function postedRow(service: Service, requestId: string) {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const row = await service.deps.store.getRequest(requestId);
    if (!row || row.slackTs !== null || Date.now() > deadline) return row;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Polls until fn returns a truthy value (for state that changes outside the fake Slack). */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 3000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
