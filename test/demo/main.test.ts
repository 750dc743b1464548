import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../support/harness.ts";

const MAIN = fileURLToPath(new URL("../../src/demo/main.ts", import.meta.url));

let child: ChildProcess | undefined;
let cleanup: (() => void) | undefined;
const others: ChildProcess[] = [];
afterEach(() => {
  for (const c of [child, ...others.splice(0)]) if (c && c.exitCode === null) c.kill("SIGKILL");
  cleanup?.();
});

/** `npm run demo` in `cwd` (Node runs the TypeScript itself: no wrapper process to outlive). */
function runDemo(cwd: string, env: Record<string, string> = {}) {
  const proc = spawn(process.execPath, [MAIN], {
    cwd,
    env: { ...process.env, PORT: "0", SIM_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const io = { out: "", err: "" };
  proc.stdout.on("data", (d) => (io.out += String(d)));
  proc.stderr.on("data", (d) => (io.err += String(d)));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const started = (async () => {
    const deadline = Date.now() + 15_000;
    while (!io.out.includes("Ctrl-C stops both")) {
      if (Date.now() > deadline || proc.exitCode !== null)
        throw new Error(`demo did not start:\n${io.out}\n${io.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return /Agent API\s+(http:\/\/localhost:\d+)\/v1/.exec(io.out)![1]!.replace("localhost", "127.0.0.1");
  })();
  started.catch(() => undefined); // awaited by the tests that expect a start
  return { proc, io, exited, started };
}

describe("npm run demo (src/demo/main.ts)", () => {
  it("prints the URLs and tokens, ignores Slack settings, serves both, and Ctrl-C stops it with exit 0", async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    child = spawn(process.execPath, [MAIN], {
      cwd: tmp.dir,
      env: {
        ...process.env,
        PORT: "0",
        SIM_PORT: "0",
        // The demo must not read these: a real run with them would fail.
        SLACK_BOT_TOKEN: "not-a-token",
        SLACK_SIGNING_SECRET: "",
        SLACK_API_URL: "http://slack.invalid/api/",
        SLACK_APP_TOKEN: "xapp-bogus",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += String(d)));
    child.stderr!.on("data", (d) => (err += String(d)));
    const exited = new Promise<number | null>((resolve) => child!.on("exit", (code) => resolve(code)));

    const deadline = Date.now() + 15_000;
    while (!out.includes("Ctrl-C stops both")) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`demo did not start:\n${out}\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const sim = /Simulated Slack\s+(http:\/\/localhost:\d+\/sim)/
      .exec(out)?.[1]
      ?.replace("localhost", "127.0.0.1");
    const api = /Agent API\s+(http:\/\/localhost:\d+)\/v1/.exec(out)?.[1]?.replace("localhost", "127.0.0.1");
    expect(sim).toBeDefined();
    expect(api).toBeDefined();
    expect(out).toContain("support-bot  demo-support-bot-token");
    expect(out).toContain("curl -s");

    expect((await fetch(sim!)).status).toBe(200);
    expect(await (await fetch(`${api}/healthz`)).json()).toEqual({ ok: true });
    const created = await fetch(`${api}/v1/requests`, {
      method: "POST",
      headers: { authorization: "Bearer demo-support-bot-token", "content-type": "application/json" },
      body: JSON.stringify({
        action: "refund.issue",
        summary: "Refund $120 to Dana Ruiz",
        params: { amount: 120 },
      }),
    });
    expect(created.status).toBe(201);
    const until = Date.now() + 5000;
    let html = "";
    while (!html.includes("Refund $120 to Dana Ruiz") && Date.now() < until) {
      html = await (await fetch(`${sim}?channel=C0SUPPORT`)).text();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(html).toContain("Refund $120 to Dana Ruiz");
    expect(existsSync(`${tmp.dir}/data/demo.db`)).toBe(true);

    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toContain("countersign demo: stopped");
    expect(err).toBe("");
  });

  it("a second demo on the same database → refused naming DATABASE_PATH, the running demo's files untouched", async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    const first = runDemo(tmp.dir);
    child = first.proc;
    const api = await first.started;
    const db = `${tmp.dir}/data/demo.db`;
    const inode = statSync(db).ino;

    const second = runDemo(tmp.dir);
    others.push(second.proc);
    expect(await second.exited).toBe(2);
    expect(second.io.err).toContain("DATABASE_PATH: ./data/demo.db is in use by another countersign process");
    expect(second.io.err).toContain("DATABASE_PATH=./data/demo-2.db");
    // Same file, still there, and the first demo still stores requests in it.
    expect(statSync(db).ino).toBe(inode);
    const created = await fetch(`${api}/v1/requests`, {
      method: "POST",
      headers: { authorization: "Bearer demo-support-bot-token", "content-type": "application/json" },
      body: JSON.stringify({ action: "refund.issue", summary: "Refund $30", params: { amount: 30 } }),
    });
    expect(created.status).toBe(201);
    expect(statSync(db).ino).toBe(inode);
  });

  it("DATABASE_PATH → the demo uses (and empties) that file, and says so; the banner names Socket Mode when on", async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    const demo = runDemo(tmp.dir, { DATABASE_PATH: "./other/demo-2.db", DEMO_SOCKET_MODE: "1" });
    child = demo.proc;
    await demo.started;
    expect(demo.io.out).toContain("Database          ./other/demo-2.db (fresh on every run)");
    expect(demo.io.out).toContain("with a simulated Slack (Socket Mode)");
    expect(demo.io.out).toContain("Socket Mode: envelopes over the simulator's WebSocket");
    expect(existsSync(`${tmp.dir}/other/demo-2.db`)).toBe(true);
    expect(existsSync(`${tmp.dir}/data/demo.db`)).toBe(false);
  });
});
