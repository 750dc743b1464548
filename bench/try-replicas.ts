/**
 * Two replicas on one PostgreSQL; kill one during a burst; lose nothing.
 * docs/postgresql.md, "Try it":
 *
 *   node bench/try-replicas.ts            (DATABASE_URL=postgres://… to use your own server,
 *                                            TRY_REQUESTS=N for a bigger burst, TRY_PORTS=A,B)
 *
 * Starts a throwaway PostgreSQL cluster (scripts/pg-cluster.mjs, Debian's
 * `postgresql` package) unless DATABASE_URL is set, a fake Slack Web API on
 * localhost (the one the tests use) and two replicas exactly as `npm start`
 * runs them (src/main.ts), on ports 3101 and 3102 with the same DATABASE_URL.
 * Then:
 *   1. a burst of requests, alternating between the replicas; replica A gets
 *      SIGKILL half-way (what A cannot answer goes to B, as a load balancer
 *      would retry a refused connection), and A is started again;
 *   2. an Approve click on every stored request, alternating; replica B gets
 *      SIGKILL half-way, and is started again;
 *   3. waits for the queued Slack calls (a killed replica's claims are taken
 *      over after WORK_LEASE_SECONDS, 5 s here), then checks: every request
 *      answered 201 is stored and has exactly one channel message, every click
 *      answered 200 is recorded, and the audit chain verifies.
 * Exit 0 when nothing was lost, 1 otherwise. Nothing is left running.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeSlack } from "../src/fake-slack/slack-api.ts";
import { blockActionsPayload, encodeInteraction } from "../src/fake-slack/slack-requests.ts";
import { POST_METADATA_TYPE } from "../src/slack/send-effect.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const REQUESTS = Number(process.env.TRY_REQUESTS ?? 200);
const AGENT_TOKEN = "try-agent-token-0123456789abcdef";
const SIGNING_SECRET = "try-signing-secret-0123456789";
const CHANNEL = "C0APPROVALS";
const APPROVER = "U0LEAD1";
/** TRY_PORTS=4101,4102 when 3101 or 3102 is taken. */
const [portA, portB] = (process.env.TRY_PORTS ?? "3101,3102").split(",").map(Number);
const PORTS = { a: portA ?? 3101, b: portB ?? 3102 } as const;
type Name = keyof typeof PORTS;

const CONFIG = `
agents:
  - id: try-bot
    token: ${AGENT_TOKEN}
roles:
  leads:
    channel: ${CHANNEL}
    approvers: [${APPROVER}]
policies:
  - name: refunds
    match: { action: "refund.*" }
    route: leads
    ttl: 1h
`;

const say = (text: string): void => void process.stdout.write(`${text}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dir = mkdtempSync(join(tmpdir(), "countersign-try-"));
let clusterDir: string | null = null;
let databaseUrl = process.env.DATABASE_URL ?? "";
if (databaseUrl === "") {
  // Its own directory under /tmp: as root, the cluster runs as the postgres user, who cannot enter `dir`.
  clusterDir = mkdtempSync(join(tmpdir(), "countersign-try-pg-"));
  databaseUrl = execFileSync(
    process.execPath,
    [join(ROOT, "scripts/pg-cluster.mjs"), "start", "--dir", clusterDir],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    },
  ).trim();
}
const configPath = join(dir, "countersign.yml");
writeFileSync(configPath, CONFIG);
// An empty env file, so a ./.env of yours does not fill in anything.
writeFileSync(join(dir, "empty.env"), "");
const slack = await startFakeSlack();

const replicas: Partial<Record<Name, ChildProcess>> = {};

async function start(name: Name): Promise<void> {
  const child = spawn(process.execPath, ["--import", "./bin/preload.mjs", "src/main.ts"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      PATH: process.env.PATH ?? "",
      COUNTERSIGN_ENV_FILE: join(dir, "empty.env"),
      SLACK_BOT_TOKEN: "xoxb-try-replicas-token",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      PORT: String(PORTS[name]),
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: "5",
      WORK_LEASE_SECONDS: "5",
      COUNTERSIGN_CONFIG: configPath,
      LOG_LEVEL: "warn",
    },
  });
  replicas[name] = child;
  for (let i = 0; i < 600; i += 1) {
    if (child.exitCode !== null) throw new Error(`replica ${name} exited (${child.exitCode}) at start-up`);
    const ok = await fetch(`http://127.0.0.1:${PORTS[name]}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      say(`replica ${name} up on :${PORTS[name]} (/healthz 200)`);
      return;
    }
    await sleep(100);
  }
  throw new Error(`replica ${name} did not become healthy in 60 s`);
}

async function kill(name: Name, signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
  const child = replicas[name];
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
  if (signal === "SIGKILL") say(`replica ${name} killed (SIGKILL)`);
}

/** One POST to `first`; a refused connection (the replica is dead) goes to the other one. */
async function post(first: Name, path: string, init: RequestInit): Promise<Response | null> {
  for (const name of [first, first === "a" ? "b" : "a"] as Name[]) {
    try {
      return await fetch(`http://127.0.0.1:${PORTS[name]}${path}`, { method: "POST", ...init });
    } catch {
      // Refused or reset: the load balancer's retry on the other replica.
    }
  }
  return null;
}

/** An Approve click on the message as Slack shows it (its metadata names the request). */
function signedClick(id: string, ts: string): RequestInit {
  const body = encodeInteraction(
    blockActionsPayload({
      user: { id: APPROVER, username: "lead.one" },
      actionId: "approve",
      value: id,
      channelId: CHANNEL,
      messageTs: ts,
      message: { metadata: { event_type: POST_METADATA_TYPE, event_payload: { request_id: id } } },
    }),
  );
  const stamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac("sha256", SIGNING_SECRET).update(`v0:${stamp}:${body}`).digest("hex")}`;
  return {
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(stamp),
      "x-slack-signature": signature,
    },
  };
}

/** Channel messages by request id (from their metadata), and how many each has. */
function posted(): Map<string, { ts: string; count: number }> {
  const byId = new Map<string, { ts: string; count: number }>();
  for (const m of slack.messages(CHANNEL)) {
    if (m.thread_ts !== undefined) continue;
    const id = (m.metadata as { event_payload?: { request_id?: string } } | undefined)?.event_payload
      ?.request_id;
    if (id === undefined) continue;
    const seen = byId.get(id);
    byId.set(id, { ts: seen?.ts ?? m.ts, count: (seen?.count ?? 0) + 1 });
  }
  return byId;
}

async function status(id: string): Promise<string | null> {
  for (const port of Object.values(PORTS)) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v1/requests/${id}`, {
        headers: { authorization: `Bearer ${AGENT_TOKEN}` },
      });
      if (r.status === 404) return null;
      if (r.ok) return ((await r.json()) as { status: string }).status;
    } catch {
      // try the other replica
    }
  }
  return null;
}

let failed = false;
const problem = (text: string, label = "LOST") => {
  failed = true;
  say(`${label}: ${text}`);
};

try {
  await Promise.all([start("a"), start("b")]);

  say(`\n1. ${REQUESTS} requests, alternating a/b, 8 at a time; SIGKILL to a half-way`);
  const accepted: string[] = [];
  let refused = 0;
  let next = 0;
  const killAt = Math.floor(REQUESTS / 2);
  let killing: Promise<void> | null = null;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < REQUESTS; i = next++) {
        if (i === killAt) killing = kill("a");
        const r = await post(i % 2 === 0 ? "a" : "b", "/v1/requests", {
          headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({
            action: "refund.issue",
            summary: `Refund #${i}`,
            params: { amount: 10 + i, currency: "USD" },
          }),
        });
        if (r?.status === 201) accepted.push(((await r.json()) as { id: string }).id);
        else refused += 1;
      }
    }),
  );
  await killing;
  say(`   ${accepted.length} answered 201, ${refused} not acknowledged (connection cut by the kill, or 503)`);
  await start("a");

  say("\n   waiting for every request's channel message (a's claims expire after WORK_LEASE_SECONDS=5)");
  for (let i = 0; i < 300 && accepted.some((id) => !posted().has(id)); i += 1) await sleep(100);
  const messages = posted();

  say(`\n2. an Approve click on each of them, alternating a/b; SIGKILL to b half-way`);
  const clicked: string[] = [];
  let unacked = 0;
  next = 0;
  killing = null;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < accepted.length; i = next++) {
        const id = accepted[i] as string;
        const ts = messages.get(id)?.ts;
        if (ts === undefined) continue;
        if (i === Math.floor(accepted.length / 2)) killing = kill("b");
        const r = await post(i % 2 === 0 ? "a" : "b", "/slack/events", signedClick(id, ts));
        if (r?.status === 200) clicked.push(id);
        else unacked += 1;
      }
    }),
  );
  await killing;
  say(`   ${clicked.length} clicks acked 200, ${unacked} not acknowledged (Slack would show an error)`);
  await start("b");

  say("\n3. checking");
  for (let i = 0; i < 300; i += 1) {
    const all = posted();
    if (accepted.every((id) => all.has(id))) break;
    await sleep(100);
  }
  const final = posted();
  for (const id of accepted) {
    const m = final.get(id);
    if (m === undefined) problem(`${id} was answered 201 but has no channel message`);
    else if (m.count > 1) problem(`${id} was posted ${m.count} times`);
  }
  const statuses = await Promise.all(accepted.map(status));
  accepted.forEach((id, i) => {
    if (statuses[i] === null) problem(`${id} was answered 201 but is not stored`);
  });
  const approved = new Set(accepted.filter((_, i) => statuses[i] === "approved"));
  for (const id of clicked) if (!approved.has(id)) problem(`the click on ${id} was acked but not recorded`);
  say(
    `   ${accepted.length} acknowledged requests: ${accepted.filter((id) => final.get(id)?.count === 1).length} with exactly one channel message`,
  );
  say(
    `   ${clicked.length} acknowledged clicks: ${clicked.filter((id) => approved.has(id)).length} recorded`,
  );
  const verify = (() => {
    try {
      return execFileSync(process.execPath, ["bin/countersign.mjs", "audit", "verify"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: process.env.PATH ?? "", DATABASE_URL: databaseUrl },
      }).trim();
    } catch (error) {
      problem(
        `countersign audit verify: ${String((error as { stderr?: string }).stderr ?? error).trim()}`,
        "FAILED",
      );
      return "";
    }
  })();
  if (verify !== "") say(`   countersign audit verify: ${verify.split("\n").join(" / ")}`);
  say(failed ? "\nA check failed (above)." : "\nNothing acknowledged was lost; the audit chain verifies.");
} catch (error) {
  failed = true;
  say(`failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await Promise.all((["a", "b"] as Name[]).map((name) => kill(name, "SIGTERM")));
  await slack.close();
  if (clusterDir !== null)
    execFileSync(process.execPath, [join(ROOT, "scripts/pg-cluster.mjs"), "stop", "--dir", clusterDir], {
      stdio: "ignore",
    });
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = failed ? 1 : 0;
}
