import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { loadEnv } from "../../src/config/env.ts";
import { loadConfigFile } from "../../src/config/file.ts";
import { tempDir } from "../support/harness.ts";

/**
 * The README's commands, run as written. A fenced block preceded by
 * `<!-- readme-test: demo -->` targets `npm run demo`; `<!-- readme-test: output -->`
 * marks the answer the block before it must print; `<!-- readme-test: setup -->`
 * is the real-service set-up. The only change made to the text is the demo's
 * ports (localhost:3000 / :3001), since this test runs the demo on free ones.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const MAIN = join(ROOT, "src/demo/main.ts");

type Block = { kind: string; lang: string; text: string };

/** Every fenced block right after a `<!-- readme-test: KIND -->` line, in order. */
function markedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const re = /<!-- readme-test: (\w+) -->\n+```(\w*)\n([\s\S]*?)\n```/g;
  for (const m of markdown.matchAll(re)) blocks.push({ kind: m[1]!, lang: m[2]!, text: m[3]! });
  return blocks;
}

let child: ChildProcess | undefined;
let cleanup: (() => void) | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
  cleanup?.();
  cleanup = undefined;
});

describe("README commands run as written", () => {
  it("finds the marked blocks (a renamed marker must not silently skip them)", () => {
    const kinds = markedBlocks(README).map((b) => b.kind);
    expect(kinds.filter((k) => k === "setup")).toHaveLength(1);
    expect(kinds.filter((k) => k === "demo").length).toBeGreaterThanOrEqual(4);
    expect(kinds.filter((k) => k === "output")).toHaveLength(1);
  });

  it("the real-service set-up sets every variable the example config needs; only the Slack secrets are left to paste", () => {
    const setup = markedBlocks(README).find((b) => b.kind === "setup")!;
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    copyFileSync(join(ROOT, "countersign.example.yml"), join(tmp.dir, "countersign.example.yml"));
    copyFileSync(join(ROOT, ".env.example"), join(tmp.dir, ".env.example"));
    // Everything but `npm start`, which is what the checks below stand in for.
    const script = setup.text
      .split("\n")
      .filter((line) => !line.startsWith("npm start"))
      .join("\n");
    const ran = spawnSync("bash", ["-euo", "pipefail", "-c", script], { cwd: tmp.dir, encoding: "utf8" });
    expect(ran.stderr).toBe("");
    expect(ran.status).toBe(0);

    const env = parseEnv(readFileSync(join(tmp.dir, ".env"), "utf8"));
    const config = loadConfigFile(join(tmp.dir, "countersign.yml"), env);
    expect(config.ok ? [] : config.problems).toEqual([]);
    const started = loadEnv(env, { requireSlack: true });
    expect(started.ok ? [] : started.problems).toEqual([
      "SLACK_BOT_TOKEN: required for npm start",
      "SLACK_SIGNING_SECRET: required for npm start",
    ]);
    const pasted = {
      ...env,
      SLACK_BOT_TOKEN: "xoxb-1234-5678-abcdef",
      SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99yyyzzz85a5",
    };
    expect(loadEnv(pasted, { requireSlack: true }).ok).toBe(true);
  });

  it("the demo blocks, against a started demo: create, approve, long-poll, callback, list, the documented error", async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    // Node runs the TypeScript itself: the process killed afterwards is the demo, not a wrapper.
    child = spawn(process.execPath, [MAIN], {
      cwd: tmp.dir,
      env: { ...process.env, PORT: "0", SIM_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => (out += String(d)));
    child.stderr!.on("data", (d) => (out += String(d)));
    const deadline = Date.now() + 20_000;
    while (!out.includes("Ctrl-C stops both")) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`demo did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const api = /Agent API\s+(http:\/\/localhost:\d+)\/v1/.exec(out)![1]!;
    const sim = /Simulated Slack\s+(http:\/\/localhost:\d+)\/sim/.exec(out)![1]!;
    const local = (url: string) => url.replace("localhost", "127.0.0.1");

    const blocks = markedBlocks(README);
    const demoBlocks = blocks.flatMap((b, i) =>
      b.kind === "demo"
        ? [{ ...b, output: blocks[i + 1]?.kind === "output" ? blocks[i + 1]!.text : null }]
        : [],
    );
    const script = demoBlocks
      .map((b, i) => `echo "@@@ block ${i}"\n${b.text}\necho`)
      .join("\n")
      .replaceAll("http://localhost:3000", api)
      .replaceAll("http://localhost:3001", sim);

    // The person at the simulator: approves the README's $120 refund once its evidence pack is posted.
    let approving = true;
    const approver = (async () => {
      const auth = { authorization: "Bearer demo-support-bot-token" };
      while (approving) {
        const res = await fetch(`${local(api)}/v1/requests?status=pending`, { headers: auth });
        const { data } = (await res.json()) as {
          data: { id: string; summary: string; slack: { channel: string; ts: string | null } | null }[];
        };
        for (const r of data) {
          if (r.summary !== "Refund $120 to Dana Ruiz" || !r.slack?.ts) continue;
          await fetch(`${local(sim)}/sim/click`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              as: "U0LEAD1",
              channel: r.slack.channel,
              ts: r.slack.ts,
              actionId: "approve",
              value: r.id,
            }),
          });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const ran = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const bash = spawn("bash", ["-eo", "pipefail", "-c", script], { cwd: tmp.dir });
      let stdout = "";
      let stderr = "";
      bash.stdout.on("data", (d) => (stdout += String(d)));
      bash.stderr.on("data", (d) => (stderr += String(d)));
      bash.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
    approving = false;
    await approver;
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);

    const outputs = ran.stdout.split(/^@@@ block \d+\n/m).slice(1);
    expect(outputs).toHaveLength(demoBlocks.length);
    // Block 0: the long-poll answers approved, by Ana.
    const [echoLine, polled] = outputs[0]!.trim().split("\n");
    expect(echoLine).toMatch(/^approve req_\w+ in #support-approvals/);
    const decided = JSON.parse(polled!);
    expect(decided).toMatchObject({ status: "approved", resolution: "approved_by_humans" });
    expect(decided.decisions[0].approver.slack_user_id).toBe("U0LEAD1");
    // Its callback reached the demo's receiver and verified.
    const state = (await (await fetch(`${local(sim)}/sim/state`)).json()) as { callbacks: unknown };
    expect(JSON.stringify(state.callbacks)).toContain(decided.id);
    expect(JSON.stringify(state.callbacks)).toContain("signature verified");
    // Block 1: the Agent API example is created (pending, routed to support-lead).
    expect(JSON.parse(outputs[1]!)).toMatchObject({ status: "pending", policy: "medium-refunds" });
    // Block 2: the list shows it, newest first.
    const list = JSON.parse(outputs[2]!);
    expect(list.data[0]).toMatchObject({
      status: "pending",
      summary: "Refund $75 to Dana Ruiz for a defective blender",
    });
    // Every block with a documented answer prints exactly that answer.
    demoBlocks.forEach((b, i) => {
      if (b.output !== null) expect(JSON.parse(outputs[i]!)).toEqual(JSON.parse(b.output));
    });
  }, 60_000);
});
