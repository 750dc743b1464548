/**
 * `npm run bench` — countersign's benchmark suite. Each benchmark prints one
 * line per metric (value, bar, ratio, PASS/MISS); a Markdown table follows.
 *
 *   npm run bench                      everything, full size
 *   npm run bench -- --quick           a short run of everything
 *   npm run bench -- --only=intake,sweep       (intake click decision sweep memory fanout lock … pgstore startup)
 *   npm run bench -- --only=intake --profile   servers write .cpuprofile files to .bench/profiles/<name>/
 *   npm run bench -- --json=.bench/results.json
 *   npm run bench -- --strict          exit 1 on any MISS (by default only a failed benchmark does)
 *   BENCH_COUNTERSIGN_ENTRY=/abs/entry.ts npm run bench   run another countersign entry (a patched
 *                                      tree) under the same load; see bench/servers/countersign.ts
 *   BENCH_KEEP=1 npm run bench         keep the temp databases and child logs
 *   npm run bench -- --db=postgres     intake and click on PostgreSQL, 1 and 3 replicas on one
 *                                      database vs bare node:http + pg (bench/pg-replicas.ts),
 *                                      plus pgstore; needs PostgreSQL's binaries (scripts/pg-cluster.mjs)
 *   npm run bench -- --wait-idle       before each benchmark, wait (≤ 10 min) until other
 *                                      processes use ≤ 10% of the machine
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { auditBench } from "./audit.ts";
import { clickBench } from "./click.ts";
import { clientVerifyBench } from "./client-verify.ts";
import { decisionBench } from "./decision.ts";
import { fanoutBench } from "./fanout.ts";
import { intakeBench } from "./intake.ts";
import { ROOT } from "./lib/child.ts";
import { type BenchContext, createContext, type Size } from "./lib/context.ts";
import { cpuBusy, machine, waitForIdle } from "./lib/machine.ts";
import { type Metric, markdownTable } from "./lib/report.ts";
import { listBench } from "./list.ts";
import { lockBench } from "./lock.ts";
import { memoryBench } from "./memory.ts";
import { pgClickBench, pgIntakeBench } from "./pg-replicas.ts";
import { pgStoreBench } from "./pg-store.ts";
import { startupBench } from "./startup.ts";
import { sweepBench } from "./sweep.ts";

export const BENCHES: Record<string, (ctx: BenchContext) => Promise<Metric[]>> = {
  intake: intakeBench,
  click: clickBench,
  decision: decisionBench,
  sweep: sweepBench,
  memory: memoryBench,
  fanout: fanoutBench,
  verify: clientVerifyBench,
  audit: auditBench,
  lock: lockBench,
  list: listBench,
  pgstore: pgStoreBench,
  startup: startupBench,
};

/** `--db=postgres`: the same names (--only=intake,click,pgstore) run on PostgreSQL. */
export const PG_BENCHES: Record<string, (ctx: BenchContext) => Promise<Metric[]>> = {
  intake: pgIntakeBench,
  click: pgClickBench,
  pgstore: pgStoreBench,
};

function parseArgs(argv: string[]) {
  let only: string[] | null = null;
  let db: "sqlite" | "postgres" = "sqlite";
  let size: Size = "full";
  let profile = false;
  let json: string | null = null;
  let strict = false;
  let waitIdle = false;
  for (const arg of argv) {
    if (arg.startsWith("--only=")) only = arg.slice("--only=".length).split(",").filter(Boolean);
    else if (arg === "--quick") size = "quick";
    else if (arg === "--tiny") size = "tiny";
    else if (arg === "--profile") profile = true;
    else if (arg === "--strict") strict = true;
    else if (arg === "--wait-idle") waitIdle = true;
    else if (arg.startsWith("--json=")) json = arg.slice("--json=".length);
    else if (arg === "--db=postgres" || arg === "--db=sqlite")
      db = arg === "--db=postgres" ? "postgres" : "sqlite";
    else throw new Error(`unknown argument ${arg}; see the header of bench/run.ts`);
  }
  const benches = db === "postgres" ? PG_BENCHES : BENCHES;
  only ??= Object.keys(benches);
  const unknown = only.filter((name) => !(name in benches));
  if (unknown.length > 0)
    throw new Error(
      `unknown benchmark ${unknown.join(", ")} for --db=${db}; known: ${Object.keys(benches).join(", ")}`,
    );
  return { only, size, profile, json, strict, waitIdle, db, benches };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const profileDir = args.profile ? join(ROOT, ".bench/profiles") : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const ctx = createContext(args.size, { profileDir });
  process.stdout.write(
    `countersign benchmarks — ${args.size} run of ${args.only.join(", ")}${args.db === "postgres" ? " on PostgreSQL" : ""}\n${machine()}\n${new Date().toISOString()}\n\n`,
  );
  const failed: string[] = [];
  const busyBefore: Record<string, number | null> = {};
  for (const name of args.only) {
    const busy = args.waitIdle ? await waitForIdle(0.1, 600_000, ctx.say) : await cpuBusy(1000);
    busyBefore[name] = busy;
    const started = performance.now();
    process.stdout.write(
      `— ${name}${busy === null ? "" : ` (machine ${(busy * 100).toFixed(0)}% busy with other work before it)`}\n`,
    );
    try {
      await args.benches[name]!(ctx);
    } catch (error) {
      failed.push(name);
      process.stdout.write(
        `[${name}] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.stderr.write(`  … ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  const misses = ctx.metrics.filter((m) => m.pass === false);
  process.stdout.write(`\n${markdownTable(ctx.metrics)}\n\n`);
  process.stdout.write(
    `${ctx.metrics.filter((m) => m.pass === true).length} PASS, ${misses.length} MISS, ${failed.length} failed${
      failed.length > 0 ? ` (${failed.join(", ")})` : ""
    }\n`,
  );
  if (profileDir)
    process.stdout.write(
      `CPU profiles: ${profileDir} (summarise with: node bench/profile-summary.ts <file>)\n`,
    );
  if (args.json !== null) {
    const path = resolve(args.json);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      `${JSON.stringify({ machine: machine(), size: args.size, at: new Date().toISOString(), busyBefore, metrics: ctx.metrics }, null, 2)}\n`,
    );
  }
  process.exitCode = failed.length > 0 || (args.strict && misses.length > 0) ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
