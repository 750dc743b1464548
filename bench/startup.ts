/**
 * Start-up: how `npm start` comes up on this Node, with and without a
 * transpiler. Each variant is started several times on a fresh database:
 * wall time from spawn to the first /healthz 200, and the resident set size
 * of its whole process group (npm, the shell, node) after 3 s idle. Medians.
 * The bars (≤ 1 s, ≤ 100 MB) hold `npm start`, what a user runs.
 *
 *   npm start today      npm → sh → node --import ./bin/preload.mjs src/main.ts
 *   npm start with tsx   npm → sh → tsx src/main.ts (what `npm start` ran before
 *                        Node stripped types itself; tsx is a dev dependency for this)
 *   node --import ./bin/preload.mjs src/main.ts   the service process alone (the Docker CMD)
 *   node src/main.ts     the same without the preload (no compile cache, drizzle as ESM)
 *   node --import tsx    the same through tsx's loader
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../test/support/ports.ts";
import { ROOT } from "./lib/child.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { BOT_TOKEN, SIGNING_SECRET, SUPPORT_CONFIG } from "./lib/fixtures.ts";
import { atMost, info, type Metric } from "./lib/report.ts";
import { startFakeSlackChild } from "./lib/stack.ts";
import { median, sleep } from "./lib/stats.ts";

const B = "startup";
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

interface Variant {
  label: string;
  command: string;
  args: string[];
  /** The one the bars hold: what a user runs. */
  measured?: boolean;
}

const VARIANTS: Variant[] = [
  { label: "npm start (node on src/*.ts)", command: NPM, args: ["start", "--silent"], measured: true },
  { label: "npm start as it was (tsx)", command: NPM, args: ["exec", "--offline", "-c", "tsx src/main.ts"] },
  {
    label: "node --import ./bin/preload.mjs src/main.ts",
    command: process.execPath,
    args: ["--import", "./bin/preload.mjs", "src/main.ts"],
  },
  { label: "node src/main.ts (no preload)", command: process.execPath, args: ["src/main.ts"] },
  {
    label: "node --import tsx src/main.ts",
    command: process.execPath,
    args: ["--import", "tsx", "src/main.ts"],
  },
];

/** RSS (MB) summed over every process whose process group is `pgid` (Linux /proc). */
export function groupRssMb(pgid: number): number {
  let kb = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 5 of /proc/PID/stat is the process group; the name (field 2) may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"));
      kb += Number(rss?.[1] ?? 0);
    } catch {
      // the process ended while we looked
    }
  }
  return kb / 1024;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the whole group is gone already
  }
}

async function healthy(url: string, proc: ChildProcess, deadlineMs: number): Promise<void> {
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode} before /healthz answered`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadlineMs) throw new Error("no /healthz 200 within 60 s");
    await sleep(10);
  }
}

async function startOnce(
  variant: Variant,
  env: NodeJS.ProcessEnv,
  port: number,
  idleMs: number,
): Promise<{ ms: number; groupMb: number }> {
  const started = performance.now();
  const proc = spawn(variant.command, variant.args, {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: "ignore",
    detached: true, // its own process group, so the RSS of npm + sh + node is summed
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  try {
    await healthy(`http://127.0.0.1:${port}/healthz`, proc, started + 60_000);
    const ms = performance.now() - started;
    await sleep(idleMs);
    return { ms, groupMb: groupRssMb(proc.pid!) };
  } finally {
    signalGroup(proc.pid!, "SIGTERM");
    await exited;
    // A wrapper (npm, tsx's CLI) may exit before its child: nothing of the group may outlive the run.
    signalGroup(proc.pid!, "SIGKILL");
  }
}

export async function startupBench(ctx: BenchContext): Promise<Metric[]> {
  const starts = pick(ctx.size, { tiny: 1, quick: 3, full: 7 });
  const idleMs = pick(ctx.size, { tiny: 500, quick: 3_000, full: 3_000 });
  const { dir, cleanup } = workDir(B);
  const slack = await startFakeSlackChild(B, dir);
  const metrics: Metric[] = [];
  try {
    const configPath = join(dir, "countersign.yml");
    writeFileSync(configPath, SUPPORT_CONFIG);
    const envFile = join(dir, ".env");
    writeFileSync(envFile, "");
    ctx.say(`${starts} start(s) of each of ${VARIANTS.length} variants on Node ${process.versions.node}`);
    for (const variant of VARIANTS) {
      const times: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < starts; i++) {
        const env: NodeJS.ProcessEnv = {
          PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
          HOME: process.env.HOME ?? dir,
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_API_URL: slack.ready.url,
          COUNTERSIGN_CONFIG: configPath,
          COUNTERSIGN_ENV_FILE: envFile,
          DATABASE_PATH: join(dir, `${B}-${times.length}-${variant.label.length}-${i}.db`),
          LOG_LEVEL: "warn",
          NODE_ENV: "production",
        };
        const once = await startOnce(variant, env, await freePort(), idleMs);
        times.push(once.ms);
        rss.push(once.groupMb);
      }
      const name = `${variant.label}: start → /healthz 200 (median of ${starts})`;
      const rssName = `${variant.label}: idle RSS of the process group (median)`;
      if (variant.measured) {
        metrics.push(atMost(B, name, median(times), "ms", 1_000));
        metrics.push(atMost(B, rssName, median(rss), "MB", 100));
      } else {
        metrics.push(info(B, name, median(times), "ms"));
        metrics.push(info(B, rssName, median(rss), "MB"));
      }
      for (const m of metrics.slice(-2)) ctx.emit(m);
    }
    return metrics;
  } finally {
    await slack.stop();
    cleanup();
  }
}
