import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { loadEnv } from "../../src/config/env.ts";
import { loadConfigFile } from "../../src/config/file.ts";
import { tempDir } from "../support/harness.ts";
import { startCluster, stopCluster, withDatabase } from "../support/postgres.ts";

/**
 * The commands in README.md and docs/*.md, run as written. Every `sh` block is
 * preceded by `<!-- docs-test: KIND -->` (`readme-test:` is read too):
 *   setup     the real-service set-up (exactly one, in the README)
 *   demo      run in order against a started `npm run demo`
 *   output    the answer the block before it must print
 *   demo-cli  the operator CLI against that demo's database, in the checkout
 *   postgres  against a throwaway PostgreSQL database (DATABASE_URL set)
 *   skip      — followed by why (needs Docker, root, systemd, …) and what tests it instead
 * The only changes made to the text: the demo's ports (localhost:3000 / :3001),
 * since this test runs the demo on free ones, and the files the commands write
 * (`./data/…`, `countersign.dump`), moved to a temp dir so a run never touches
 * the checkout.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "src/demo/main.ts");
const CLI = join(ROOT, "src/cli/main.ts");
const FILES = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];
const SHELL = new Set(["sh", "bash", "shell", "console"]);
const KINDS = new Set(["setup", "demo", "output", "demo-cli", "postgres", "skip"]);
const HAVE_POSTGRES =
  existsSync("/usr/lib/postgresql") &&
  readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));

type Block = { file: string; line: number; kind: string | null; note: string; lang: string; text: string };

/** Every fenced block at the start of a line, with the marker on the line before it (if any). */
function fencedBlocks(file: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  const re = /^```(\w*)\n([\s\S]*?)\n```$/gm;
  for (const m of markdown.matchAll(re)) {
    const before = markdown.slice(0, m.index).trimEnd();
    const previous = before.slice(before.lastIndexOf("\n") + 1);
    const marker = /^<!-- (?:docs|readme)-test: ([\w-]+)(.*?) -->$/.exec(previous);
    blocks.push({
      file,
      line: before.split("\n").length + 1,
      kind: marker?.[1] ?? null,
      note: marker?.[2]?.trim() ?? "",
      lang: m[1]!,
      text: m[2]!,
    });
  }
  return blocks;
}

const ALL = FILES.flatMap((f) => fencedBlocks(f, readFileSync(join(ROOT, f), "utf8")));
const marked = (kind: string) => ALL.filter((b) => b.kind === kind);
const where = (b: Block) => `${b.file}:${b.line}`;

function run(
  script: string,
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const bash = spawn("bash", ["-eo", "pipefail", "-c", script], { cwd, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    bash.stdout.on("data", (d) => (stdout += String(d)));
    bash.stderr.on("data", (d) => (stderr += String(d)));
    bash.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Blocks joined into one script, each announced so its output can be told apart. */
const joined = (blocks: Block[]) => blocks.map((b, i) => `echo "@@@ block ${i}"\n${b.text}\necho`).join("\n");
const split = (stdout: string) => stdout.split(/^@@@ block \d+\n/m).slice(1);

let child: ChildProcess | undefined;
const cleanups: (() => void)[] = [];
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
  for (const c of cleanups.splice(0).reverse()) c();
});

describe("the shell blocks of README.md and docs/", () => {
  it("every sh block is marked with a known kind; a skip says why", () => {
    const problems = ALL.flatMap((b) => {
      if (b.kind === null)
        return SHELL.has(b.lang) ? [`${where(b)}: a ${b.lang} block with no docs-test marker`] : [];
      if (!KINDS.has(b.kind)) return [`${where(b)}: unknown kind "${b.kind}"`];
      if (b.kind === "skip" && b.note.replace(/^[—-]\s*/, "").length < 10)
        return [`${where(b)}: a skip must say why`];
      return [];
    });
    expect(problems).toEqual([]);
  });

  it("every relative link in README.md and docs/ names a file that exists, and a heading or anchor there", () => {
    const slug = (heading: string) =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\- _]/gu, "")
        .replace(/ /g, "-");
    const anchorsOf = (file: string) => {
      const text = readFileSync(file, "utf8").replace(/^```[\s\S]*?^```/gm, "");
      return new Set([
        ...[...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!.replace(/`/g, ""))),
        ...[...text.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]!),
      ]);
    };
    const broken = FILES.flatMap((file) => {
      const text = readFileSync(join(ROOT, file), "utf8").replace(/^```[\s\S]*?^```/gm, "");
      return [...text.matchAll(/\]\(([^)\s]+)\)/g)].flatMap((m) => {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) return [];
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const resolved = path === "" ? join(ROOT, file) : join(ROOT, file, "..", path);
        if (!existsSync(resolved)) return [`${file}: ${target} (no such file)`];
        if (anchor !== undefined && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)) {
          return [`${file}: ${target} (no such heading)`];
        }
        return [];
      });
    });
    expect(broken).toEqual([]);
  });

  it("the guard() example in the README and docs/ is examples/guard-refund.ts, which test/client/demo-e2e.test.ts runs", () => {
    const example = readFileSync(join(ROOT, "clients/typescript/examples/guard-refund.ts"), "utf8");
    const code = example.slice(example.indexOf("import { guard }")).trimEnd();
    const shown = ALL.filter(
      (b) => b.lang === "ts" && b.text.startsWith('import { guard } from "@countersign/client";'),
    );
    expect(shown.map((b) => b.file)).toEqual(["README.md", "docs/typescript-client.md"]);
    for (const b of shown) expect(b.text, where(b)).toBe(code);
  });

  it("finds the blocks it runs (a renamed marker must not silently skip them)", () => {
    expect(marked("setup").map((b) => b.file)).toEqual(["README.md"]);
    expect(marked("demo").length).toBeGreaterThanOrEqual(4);
    expect(marked("demo")[0]?.file).toBe("README.md");
    expect(marked("output")).toHaveLength(1);
    expect(marked("demo-cli").length).toBeGreaterThanOrEqual(2);
    expect(marked("postgres").length).toBeGreaterThanOrEqual(1);
  });

  it("the real-service set-up sets every variable the example config needs; check-config reads .env and names only the Slack secrets left to paste", async () => {
    const setup = marked("setup")[0]!;
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    copyFileSync(join(ROOT, "countersign.example.yml"), join(tmp.dir, "countersign.example.yml"));
    copyFileSync(join(ROOT, ".env.example"), join(tmp.dir, ".env.example"));
    // Everything but what starts countersign, which the checks below stand in for.
    const commands = setup.text.split("\n");
    const script = commands.filter((l) => !/^(npm start|npx countersign )/.test(l)).join("\n");
    expect(commands).toContain("npx countersign check-config");
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

    // `npx countersign check-config` there, with nothing but .env: the two Slack secrets, nothing else.
    const checkConfig = () =>
      spawnSync(process.execPath, [CLI, "check-config"], {
        cwd: tmp.dir,
        env: { PATH: process.env.PATH ?? "" },
        encoding: "utf8",
      });
    const before = checkConfig();
    expect(before.status).toBe(2);
    expect(before.stderr).toContain("SLACK_BOT_TOKEN: required for npm start");
    expect(before.stderr).not.toContain("is not set");
    // Pasted as the comments say: the lines .env.example leaves empty.
    const pasted = readFileSync(join(tmp.dir, ".env"), "utf8")
      .replace(/^SLACK_BOT_TOKEN=$/m, "SLACK_BOT_TOKEN=xoxb-1234-5678-abcdef")
      .replace(/^SLACK_SIGNING_SECRET=$/m, "SLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5");
    writeFileSync(join(tmp.dir, ".env"), pasted);
    const after = checkConfig();
    expect(after.stderr).toBe("");
    expect(after.status).toBe(0);
  });

  it("the demo blocks against a started demo (create, approve, long-poll, callback, list, the documented error), then the CLI blocks on its database", async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
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
    const ports = (s: string) =>
      s.replaceAll("http://localhost:3000", api).replaceAll("http://localhost:3001", sim);

    const demoBlocks = ALL.flatMap((b, i) =>
      b.kind === "demo" ? [{ ...b, output: ALL[i + 1]?.kind === "output" ? ALL[i + 1]!.text : null }] : [],
    );

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
    const ran = await run(ports(joined(demoBlocks)), tmp.dir);
    approving = false;
    await approver;
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);

    const outputs = split(ran.stdout);
    expect(outputs).toHaveLength(demoBlocks.length);
    const outputOf = (needle: string) => outputs[demoBlocks.findIndex((b) => b.text.includes(needle))]!;
    // The README's block: the long-poll answers approved, by Ana.
    const [echoLine, polled] = outputs[0]!.trim().split("\n");
    expect(echoLine).toMatch(/^approve req_\w+ in #support-approvals/);
    const decided = JSON.parse(polled!);
    expect(decided).toMatchObject({ status: "approved", resolution: "approved_by_humans" });
    expect(decided.decisions[0].approver.slack_user_id).toBe("U0LEAD1");
    // Its callback reached the demo's receiver and verified.
    const state = (await (await fetch(`${local(sim)}/sim/state`)).json()) as { callbacks: unknown };
    expect(JSON.stringify(state.callbacks)).toContain(decided.id);
    expect(JSON.stringify(state.callbacks)).toContain("signature verified");
    // docs/agent-api.md: the create example is created (pending, routed to support-lead)…
    expect(JSON.parse(outputOf("Idempotency-Key: run_7f3a-refund-1"))).toMatchObject({
      status: "pending",
      policy: "medium-refunds",
    });
    // …and the list shows it, newest first.
    expect(JSON.parse(outputOf("status=pending&limit=10")).data[0]).toMatchObject({
      status: "pending",
      summary: "Refund $75 to Dana Ruiz for a defective blender",
    });
    // Every block with a documented answer prints exactly that answer.
    demoBlocks.forEach((b, i) => {
      if (b.output !== null) expect(JSON.parse(outputs[i]!), where(b)).toEqual(JSON.parse(b.output));
    });

    // The CLI blocks, in the checkout, on the demo's database (./data/ is the demo's folder here).
    const cli = joined(marked("demo-cli")).replaceAll("./data/", `${tmp.dir}/data/`);
    const cliRan = await run(cli, ROOT);
    const cliOut = split(cliRan.stdout);
    expect(cliRan.code, cliRan.stderr).toBe(0);
    expect(cliOut[0]).toMatch(/audit verify: ok, \d+ event\(s\) checked/);
    expect(cliOut[0]).toContain("large-refunds: MATCH");
    expect(cliOut[0]).toContain("backup: written to");
    expect(cliOut[1]).toContain("exit status 1");
    expect(cliRan.stderr).toContain("FAILED (edited) at event 3");
    // No refusal, usage error or crash (stderr also carries export's count and that one expected failure).
    expect(cliRan.stderr).not.toMatch(/^countersign:|Error|npm error/m);
    expect(existsSync(join(ROOT, "data/demo-backup.db"))).toBe(false);
  }, 240_000);

  it.skipIf(!HAVE_POSTGRES)(
    "the PostgreSQL blocks against a throwaway database (backup, restore into a new database, verify)",
    async () => {
      const cluster = startCluster();
      cleanups.push(() => stopCluster(cluster.dir));
      const tmp = tempDir();
      cleanups.push(tmp.cleanup);
      const url = withDatabase(cluster.url, "countersign");
      expect(spawnSync("createdb", [`--maintenance-db=${cluster.url}`, "countersign"]).status).toBe(0);
      const migrated = spawnSync(process.execPath, [CLI, "migrate"], {
        cwd: tmp.dir,
        env: { PATH: process.env.PATH ?? "", DATABASE_URL: url },
        encoding: "utf8",
      });
      expect(migrated.stderr).toBe("");
      const script = joined(marked("postgres")).replaceAll("countersign.dump", `${tmp.dir}/countersign.dump`);
      const ran = await run(script, ROOT, { DATABASE_URL: url });
      expect(ran.stderr).toBe("");
      expect(ran.code).toBe(0);
      expect(ran.stdout).toContain("audit verify: ok");
      expect(existsSync(join(ROOT, "countersign.dump"))).toBe(false);
    },
    120_000,
  );
});
