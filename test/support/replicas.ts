/**
 * Several countersign replicas on one PostgreSQL database (issue 14): child
 * processes started as `npm start` starts the service (node --import ./bin/preload.mjs on
 * src/main.ts, configured only by env), a pass-through tap in front of the
 * fake Slack that tells which replica has calls in flight, and signed clicks
 * aimed at one replica.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import pg from "pg";
import { blockActionsPayload, postToApp } from "../../src/fake-slack/slack-requests.ts";
import { SECRETS, TEST_CONFIG_YAML, TOKENS } from "./config.ts";
import { BOT_TOKEN, SIGNING_SECRET, tempDir } from "./harness.ts";
import { freePort } from "./ports.ts";

export interface Replica {
  name: string;
  process: ChildProcess;
  base: string;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The JSON log lines it wrote so far (pino, one object a line). */
  logs(): Record<string, unknown>[];
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

export interface ReplicaSetup {
  databaseUrl: string;
  /** The fake Slack's Web API URL (or a tap's). */
  slackUrl: string;
  /** countersign.yml contents (default TEST_CONFIG_YAML). */
  yaml?: string;
  env?: Record<string, string>;
}

const live: Replica[] = [];
const cleanups: (() => void)[] = [];

/** Starts one replica as a child process and waits until /healthz answers 200. */
export async function startReplica(name: string, setup: ReplicaSetup): Promise<Replica> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const configPath = join(t.dir, "countersign.yml");
  writeFileSync(configPath, setup.yaml ?? TEST_CONFIG_YAML);
  const envFile = join(t.dir, ".env");
  writeFileSync(envFile, "");
  const port = await freePort();
  const proc = spawn(process.execPath, ["--import", "./bin/preload.mjs", "src/main.ts"], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "test",
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: setup.slackUrl,
      PORT: String(port),
      DATABASE_URL: setup.databaseUrl,
      COUNTERSIGN_CONFIG: configPath,
      WORK_LEASE_SECONDS: "2",
      SWEEP_CRON: "* * * * * *",
      LOG_LEVEL: "debug",
      SUPPORT_TOKEN: TOKENS.support,
      SUPPORT_SECRET: SECRETS.support,
      DEPLOY_TOKEN: TOKENS.deploy,
      // Never the developer's own ./.env.
      COUNTERSIGN_ENV_FILE: envFile,
      ...setup.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const replica: Replica = {
    name,
    process: proc,
    base: `http://127.0.0.1:${port}`,
    stdout: [],
    stderr: [],
    exited: new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal }))),
    logs() {
      const out: Record<string, unknown>[] = [];
      for (const line of replica.stdout.join("").split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          out.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // a line cut by SIGKILL
        }
      }
      return out;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await replica.exited;
    },
  };
  proc.stdout?.on("data", (c: Buffer) => replica.stdout.push(String(c)));
  proc.stderr?.on("data", (c: Buffer) => replica.stderr.push(String(c)));
  live.push(replica);
  await waitHealthy(replica);
  return replica;
}

async function waitHealthy(replica: Replica): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (replica.process.exitCode !== null) {
      throw new Error(
        `replica ${replica.name} exited ${replica.process.exitCode}: ${replica.stderr.join("")}`,
      );
    }
    try {
      if ((await fetch(`${replica.base}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`replica ${replica.name} not healthy in time: ${replica.stderr.join("")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGKILLs every replica still running and removes their temp dirs (afterEach). */
export async function stopReplicas(): Promise<void> {
  await Promise.all(live.splice(0).map((r) => r.kill()));
  for (const fn of cleanups.splice(0)) fn();
}

/** An agent API call to one replica (as support-bot). */
export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKENS.support}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A Slack block_actions click, signed like Slack signs it, delivered to `base`'s listener. */
export async function clickOn(
  base: string,
  user: string,
  action: "approve" | "reject",
  requestId: string,
  where: { channel: string; ts?: string | null; metadata?: unknown },
): Promise<number> {
  const res = await postToApp(
    `${base}/slack/events`,
    SIGNING_SECRET,
    blockActionsPayload({
      user: { id: user, username: user.toLowerCase() },
      actionId: action,
      value: requestId,
      channelId: where.channel,
      messageTs: where.ts ?? "1.000100",
      ...(where.metadata === undefined ? {} : { message: { metadata: where.metadata } }),
    }),
  );
  return res.status;
}

/** One query on the shared database, on its own connection. */
export async function query<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A pass-through proxy in front of the fake Slack for one replica: counts that
 * replica's calls still in flight per method, and can withhold Slack's answers
 * to a method (Slack took the call, its answer is slow to come back). A caller
 * that disappears (SIGKILL) does not cancel the call upstream: Slack keeps a
 * post it already received.
 */
export interface SlackTap {
  url: string;
  inFlight(method: string): number;
  /** From now on Slack's answers to `method` are not passed back (the calls stay in flight). */
  withhold(method: string): void;
  close(): Promise<void>;
}

export async function startSlackTap(slackUrl: string): Promise<SlackTap> {
  const upstream = new URL(slackUrl);
  const counts = new Map<string, number>();
  const withheld = new Set<string>();
  const bump = (method: string, by: number) => counts.set(method, (counts.get(method) ?? 0) + by);
  const server = createServer((req, res) => {
    const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0] ?? "";
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bump(method, 1);
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on("data", (c: Buffer) => body.push(c));
          answer.on("end", () => {
            if (withheld.has(method)) return;
            bump(method, -1);
            if (res.destroyed) return;
            res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(body));
          });
        },
      );
      out.on("error", () => {
        bump(method, -1);
        if (!res.destroyed) res.writeHead(502).end();
      });
      out.end(Buffer.concat(chunks));
    });
    // The replica died: swallow the socket error, keep the upstream call going.
    res.on("error", () => {});
    req.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    inFlight: (method) => counts.get(method) ?? 0,
    withhold: (method) => void withheld.add(method),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One callback delivery a HoldingReceiver got. */
export interface HeldDelivery {
  headers: Record<string, string>;
  body: string;
  /** The sender went away before it was answered (its replica was killed mid-delivery). */
  cut: boolean;
  answered: boolean;
}

/**
 * A webhook receiver that holds every delivery unanswered until release(),
 * then answers the held ones and all later ones 200. A replica's callback
 * worker sends at most `perAgent` (2) at a time, so N replicas × 2 held
 * deliveries means every replica has callbacks in flight.
 */
export interface HoldingReceiver {
  url: string;
  deliveries: HeldDelivery[];
  /** Deliveries waiting for an answer whose sender is still connected. */
  held(): number;
  release(): void;
  close(): Promise<void>;
}

export async function startHoldingReceiver(): Promise<HoldingReceiver> {
  let holding = true;
  const waiting: { delivery: HeldDelivery; res: ServerResponse }[] = [];
  const answer = (delivery: HeldDelivery, res: ServerResponse) => {
    delivery.answered = true;
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const delivery: HeldDelivery = {
        headers,
        body: Buffer.concat(chunks).toString("utf8"),
        cut: false,
        answered: false,
      };
      receiver.deliveries.push(delivery);
      if (!holding) return answer(delivery, res);
      res.on("close", () => {
        if (!delivery.answered) delivery.cut = true;
      });
      waiting.push({ delivery, res });
    });
    res.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const receiver: HoldingReceiver = {
    url: `http://127.0.0.1:${port}/hooks/approvals`,
    deliveries: [],
    held: () => waiting.filter((w) => !w.delivery.cut && !w.delivery.answered).length,
    release() {
      holding = false;
      for (const { delivery, res } of waiting.splice(0)) if (!delivery.cut) answer(delivery, res);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
