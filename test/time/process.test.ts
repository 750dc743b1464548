import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { startHangingSlack } from "../slack-flow/helpers.ts";
import { SECRETS, TEST_CONFIG_YAML, TOKENS } from "../support/config.ts";
import { openReader } from "../support/db-reader.ts";
import { postgresUrlFor, REFUND, tempDir } from "../support/harness.ts";
import { freePort } from "../support/ports.ts";
import { onPostgres } from "../support/postgres.ts";
import { sleep } from "./helpers.ts";

/** The real service as `npm start` runs it: node --import ./bin/preload.mjs src/main.ts, configured only by env. */
interface Child {
  process: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: Child[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill("SIGKILL");
      await child.exited;
    }
  }
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function spawnService(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ["--import", "./bin/preload.mjs", "src/main.ts"], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const child: Child = {
    process: proc,
    stdout: [],
    stderr: [],
    exited: new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal }))),
  };
  proc.stdout?.on("data", (c: Buffer) => child.stdout.push(String(c)));
  proc.stderr?.on("data", (c: Buffer) => child.stderr.push(String(c)));
  children.push(child);
  return child;
}

/** Resolves with the exit, or rejects when the process is still running after `ms`. */
async function exitWithin(child: Child, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running after ${ms} ms; stderr: ${child.stderr.join("")}`)),
      ms,
    );
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Setup {
  dir: string;
  env: Record<string, string>;
  base: string;
  dbPath: string;
  configPath: string;
  slack: FakeSlack;
}

async function setup(extra: Record<string, string> = {}): Promise<Setup> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const slack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
  cleanups.push(() => slack.close());
  const port = await freePort();
  const configPath = join(t.dir, "countersign.yml");
  writeFileSync(configPath, TEST_CONFIG_YAML);
  const dbPath = join(t.dir, "data", "countersign.db");
  const envFile = join(t.dir, ".env");
  writeFileSync(envFile, "");
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: "xoxb-test-token",
    SLACK_SIGNING_SECRET: "test-signing-secret",
    SLACK_API_URL: slack.url,
    PORT: String(port),
    DATABASE_PATH: dbPath,
    COUNTERSIGN_CONFIG: configPath,
    LOG_LEVEL: "info",
    SUPPORT_TOKEN: TOKENS.support,
    SUPPORT_SECRET: SECRETS.support,
    DEPLOY_TOKEN: TOKENS.deploy,
    // Never the developer's own ./.env: each test says where its settings come from.
    COUNTERSIGN_ENV_FILE: envFile,
    // On PostgreSQL the same process runs on the database that stands for this path (DATABASE_URL wins).
    ...(onPostgres ? { DATABASE_URL: await postgresUrlFor(dbPath) } : {}),
    ...extra,
  };
  return { dir: t.dir, env, base: `http://127.0.0.1:${port}`, dbPath, configPath, slack };
}

async function waitHealthy(base: string, child: Child): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.process.exitCode !== null) {
      throw new Error(
        `service exited ${child.process.exitCode}: ${child.stderr.join("")}${child.stdout.join("")}`,
      );
    }
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.status === 200) {
        expect(await res.json()).toEqual({ ok: true });
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not healthy in time: ${child.stderr.join("")}`);
    await sleep(50);
  }
}

const auth = { authorization: `Bearer ${TOKENS.support}`, "content-type": "application/json" };

/** A POST whose body arrives in two parts, so the request is still in flight when we want it to be. */
function slowPost(
  url: string,
  body: string,
): { sendRest: () => void; response: Promise<{ status: number; json: unknown }> } {
  const cut = Math.floor(body.length / 2);
  let req!: ReturnType<typeof request>;
  const response = new Promise<{ status: number; json: unknown }>((resolve, reject) => {
    req = request(
      url,
      { method: "POST", headers: { ...auth, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on("error", reject);
  });
  req.write(body.slice(0, cut));
  return { sendRest: () => req.end(body.slice(cut)), response };
}

describe("the real process", () => {
  it("running + SIGTERM → long-poll answered, in-flight create and Slack post finished, exit 0, database intact", async () => {
    const s = await setup();
    const child = spawnService(s.env);
    await waitHealthy(s.base, child);
    const create = async (summary: string) => {
      const res = await fetch(`${s.base}/v1/requests`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ ...REFUND, summary }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };

    const waited = await create("long-polled at SIGTERM");
    await s.slack.waitFor((f) => f.messages("C0SUPPORT").length === 1, 10_000);
    const pollStarted = Date.now();
    const poll = fetch(`${s.base}/v1/requests/${waited}?wait=30`, { headers: auth }).then(async (r) => ({
      status: r.status,
      json: (await r.json()) as { id: string; status: string },
      at: Date.now(),
    }));

    // Slack is slow for the next post, so it is in flight when the signal arrives.
    s.slack.delayNext("chat.postMessage", 1_500);
    const posting = await create("posting at SIGTERM");
    // And an agent's create is still uploading its body.
    const slow = slowPost(
      `${s.base}/v1/requests`,
      JSON.stringify({ ...REFUND, summary: "uploading at SIGTERM" }),
    );
    await sleep(300);
    expect(s.slack.messages("C0SUPPORT")).toHaveLength(1);

    const signalled = Date.now();
    child.process.kill("SIGTERM");
    await sleep(100);
    slow.sendRest();

    const answered = await poll;
    expect(answered.status).toBe(200);
    expect(answered.json).toMatchObject({ id: waited, status: "pending" });
    expect(answered.at - pollStarted).toBeLessThan(10_000);

    const uploaded = await slow.response;
    expect(uploaded.status).toBe(201);
    const uploadedId = (uploaded.json as { id: string }).id;

    const exit = await exitWithin(child, 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(child.stdout.join("")).toContain("shutting down");

    if (!onPostgres) {
      const file = new Database(s.dbPath, { readonly: true });
      expect(file.pragma("integrity_check", { simple: true })).toBe("ok");
      file.close();
    }
    const db = await openReader(s.dbPath);
    try {
      const rows = await db.all<{ id: string; status: string; slack_ts: string | null }>(
        "SELECT id, status, slack_ts FROM requests",
      );
      expect(rows.map((r) => r.id).sort()).toEqual([waited, posting, uploadedId].sort());
      expect(rows.every((r) => r.status === "pending")).toBe(true);
      // The slow chat.postMessage finished, and its ts was stored before the database closed.
      const posted = s.slack.messages("C0SUPPORT").find((m) => m.text.includes("posting at SIGTERM"));
      expect(posted).toBeDefined();
      expect(rows.find((r) => r.id === posting)?.slack_ts).toBe(posted?.ts);
      const outbox = await db.all<{ request_id: string }>("SELECT request_id FROM slack_outbox");
      expect(outbox.every((o) => o.request_id === uploadedId)).toBe(true);
    } finally {
      await db.close();
    }
  });

  it("running with SWEEP_CRON every second + ttl elapsed → expired by the cron sweep, long-poll answered", async () => {
    const s = await setup({ SWEEP_CRON: "* * * * * *" });
    const child = spawnService(s.env);
    await waitHealthy(s.base, child);
    const created = await fetch(`${s.base}/v1/requests`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ ...REFUND, ttl: "2s" }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const res = await fetch(`${s.base}/v1/requests/${id}?wait=15`, { headers: auth });
    expect(await res.json()).toMatchObject({ id, status: "expired", resolution: "approval_timeout" });
    await s.slack.waitFor((f) => f.messages("C0SUPPORT")[0]?.updates, 10_000);

    child.process.kill("SIGTERM");
    expect(await exitWithin(child, 10_000)).toEqual({ code: 0, signal: null });
  });

  it("Slack hanging on a post + SIGTERM → exit 0 within 10 s, the post stays queued; restart → posted exactly once", async () => {
    const hanging = await startHangingSlack();
    cleanups.push(() => hanging.close());
    const s = await setup();
    const child = spawnService({ ...s.env, SLACK_API_URL: hanging.url });
    await waitHealthy(s.base, child);
    const created = await fetch(`${s.base}/v1/requests`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify(REFUND),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const deadline = Date.now() + 10_000;
    while (!hanging.received.includes("/api/chat.postMessage")) {
      if (Date.now() > deadline) throw new Error(`no post attempted: ${hanging.received.join(", ")}`);
      await sleep(20);
    }

    const signalled = Date.now();
    child.process.kill("SIGTERM");
    expect(await exitWithin(child, 10_000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    const db = await openReader(s.dbPath);
    try {
      expect(await db.all("SELECT request_id, kind FROM slack_outbox")).toEqual([
        { request_id: id, kind: "post" },
      ]);
    } finally {
      await db.close();
    }

    const restarted = spawnService(s.env);
    await waitHealthy(s.base, restarted);
    await s.slack.waitFor((f) => f.messages("C0SUPPORT").length === 1, 10_000);
    await sleep(1_000);
    expect(s.slack.messages("C0SUPPORT")).toHaveLength(1);
    expect(s.slack.messages("C0SUPPORT")[0]?.text).toContain(REFUND.summary);
    restarted.process.kill("SIGTERM");
    expect(await exitWithin(restarted, 10_000)).toEqual({ code: 0, signal: null });
  }, 60_000);

  // SQLite's one-writer file lock (PostgreSQL takes several replicas: test/replicas).
  it.skipIf(onPostgres)(
    "running + a second instance on the same DATABASE_PATH → the second exits 2 naming the path, the first keeps serving; after kill -9 a new one starts",
    async () => {
      const s = await setup();
      const first = spawnService(s.env);
      await waitHealthy(s.base, first);

      const port = await freePort();
      const second = spawnService({ ...s.env, PORT: String(port) });
      const exit = await exitWithin(second, 20_000);
      expect(exit.code).toBe(2);
      const stderr = second.stderr.join("");
      expect(stderr).toContain(s.dbPath);
      expect(stderr).toContain("another countersign");
      const created = await fetch(`${s.base}/v1/requests`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify(REFUND),
      });
      expect(created.status).toBe(201);
      await s.slack.waitFor((f) => f.messages("C0SUPPORT").length === 1, 10_000);

      // The lock dies with its process: no stale lock after kill -9.
      first.process.kill("SIGKILL");
      await first.exited;
      const third = spawnService({ ...s.env, PORT: String(port) });
      await waitHealthy(`http://127.0.0.1:${port}`, third);
      // Readers are not locked out while it runs (backups, audit verify).
      const db = new Database(s.dbPath, { readonly: true });
      try {
        expect(db.prepare("SELECT count(*) AS n FROM requests").get()).toEqual({ n: 1 });
      } finally {
        db.close();
      }
      third.process.kill("SIGTERM");
      expect(await exitWithin(third, 10_000)).toEqual({ code: 0, signal: null });
    },
    60_000,
  );

  it("start without SLACK_BOT_TOKEN → exits non-zero naming SLACK_BOT_TOKEN, nothing created", async () => {
    const s = await setup();
    const { SLACK_BOT_TOKEN: _omitted, ...env } = s.env;
    const child = spawnService(env);
    const exit = await exitWithin(child, 20_000);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(child.stderr.join("")).toContain("SLACK_BOT_TOKEN");
    expect(existsSync(s.dbPath)).toBe(false);
  });

  it("start with a malformed SLACK_BOT_TOKEN and PORT → exits non-zero naming both", async () => {
    const s = await setup({ SLACK_BOT_TOKEN: "not-a-bot-token", PORT: "http" });
    const child = spawnService(s.env);
    const exit = await exitWithin(child, 20_000);
    expect(exit.code).not.toBe(0);
    const stderr = child.stderr.join("");
    expect(stderr).toContain("SLACK_BOT_TOKEN");
    expect(stderr).toContain("PORT");
    expect(stderr).not.toContain("not-a-bot-token");
  });

  it("start with the README's placeholder secrets (xoxb-…, …) → exits 2 naming both, nothing created", async () => {
    const s = await setup({ SLACK_BOT_TOKEN: "xoxb-…", SLACK_SIGNING_SECRET: "…" });
    const child = spawnService(s.env);
    const exit = await exitWithin(child, 20_000);
    expect(exit.code).toBe(2);
    const stderr = child.stderr.join("");
    expect(stderr).toMatch(/SLACK_BOT_TOKEN: contains spaces or non-ASCII/);
    expect(stderr).toMatch(/SLACK_SIGNING_SECRET: contains spaces or non-ASCII/);
    expect(existsSync(s.dbPath)).toBe(false);
  });

  it("settings in the .env file (COUNTERSIGN_ENV_FILE) → start-up uses them; the environment wins", async () => {
    const s = await setup({ LOG_LEVEL: "info" });
    const { SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SUPPORT_TOKEN, ...env } = s.env;
    writeFileSync(
      s.env.COUNTERSIGN_ENV_FILE as string,
      `# comment\nSLACK_BOT_TOKEN=${SLACK_BOT_TOKEN}\nSLACK_SIGNING_SECRET="${SLACK_SIGNING_SECRET}"\nSUPPORT_TOKEN=${SUPPORT_TOKEN}\nLOG_LEVEL=verbose\n`,
    );
    const child = spawnService(env);
    await waitHealthy(s.base, child);
    child.process.kill("SIGTERM");
    expect(await exitWithin(child, 10_000)).toEqual({ code: 0, signal: null });
  });

  it("COUNTERSIGN_ENV_FILE naming a missing file → exits 2 naming it", async () => {
    const s = await setup({ COUNTERSIGN_ENV_FILE: "/nonexistent/countersign.env" });
    const child = spawnService(s.env);
    expect((await exitWithin(child, 20_000)).code).toBe(2);
    expect(child.stderr.join("")).toContain(
      'COUNTERSIGN_ENV_FILE: no such file "/nonexistent/countersign.env"',
    );
  });

  it("start with a COUNTERSIGN_SIGNING_KEY that is not an Ed25519 key → exit 2 naming it, key not echoed, nothing created", async () => {
    const rsa = String(
      generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs8" }),
    );
    const s = await setup({ COUNTERSIGN_SIGNING_KEY: rsa });
    const child = spawnService(s.env);
    const exit = await exitWithin(child, 20_000);
    expect(exit.code).toBe(2);
    const stderr = child.stderr.join("");
    expect(stderr).toContain("COUNTERSIGN_SIGNING_KEY: must be an Ed25519 private key");
    expect(stderr).not.toContain(rsa.split("\n")[1]);
    expect(existsSync(s.dbPath)).toBe(false);
  });

  it("start with a bad config file → exits non-zero naming the file and each problem by path", async () => {
    const s = await setup();
    writeFileSync(
      s.configPath,
      TEST_CONFIG_YAML.replace("route: finance", "route: finanse").replace("ttl: 30m", "ttl: 30 minutes"),
    );
    const child = spawnService(s.env);
    const exit = await exitWithin(child, 20_000);
    expect(exit.code).not.toBe(0);
    const stderr = child.stderr.join("");
    expect(stderr).toContain(s.configPath);
    expect(stderr).toMatch(/policies\[2\]\.route/);
    expect(stderr).toMatch(/policies\[1\]\.ttl/);
    expect(existsSync(s.dbPath)).toBe(false);
  });

  it("start with a config that needs an unset variable → exits non-zero naming the variable", async () => {
    const s = await setup();
    const { SUPPORT_SECRET: _omitted, ...env } = s.env;
    const child = spawnService(env);
    const exit = await exitWithin(child, 20_000);
    expect(exit.code).not.toBe(0);
    expect(child.stderr.join("")).toContain("SUPPORT_SECRET");
    expect(child.stderr.join("")).toMatch(/agents\[0\]\.callback_secret/);
  });

  it("start with a missing config file → exits non-zero naming the path", async () => {
    const s = await setup({ COUNTERSIGN_CONFIG: "/nonexistent/countersign.yml" });
    const child = spawnService(s.env);
    const exit = await exitWithin(child, 20_000);
    expect(exit.code).not.toBe(0);
    expect(child.stderr.join("")).toContain("/nonexistent/countersign.yml");
  });
});
