/**
 * 7. Audit chain. (a) Intake with the hash-chained audit vs the same intake with
 * the plain insert it replaced (no hashes, no head read), in-process on the
 * createRequest verb over a WAL file, alternating rounds so both see the same
 * machine; in-process leaves out HTTP, so the chain's share is the largest it
 * can be. (b) `countersign audit verify` of a chain of 1M events, run as the
 * operator runs it (node on bin/countersign.mjs (the installed `countersign` bin)): wall time and peak RSS.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import { createRequest } from "../src/approvals/create-request.ts";
import type { Deps } from "../src/approvals/deps.ts";
import { RequestEvents } from "../src/approvals/events.ts";
import { createRequestBodySchema } from "../src/approvals/request-body.ts";
import { chainHash, GENESIS_HASH } from "../src/audit/chain.ts";
import { systemClock } from "../src/clock.ts";
import { parseConfig } from "../src/config/file.ts";
import { createMetrics } from "../src/metrics.ts";
import type { Store } from "../src/storage/ports.ts";
import { createGroupCommit } from "../src/storage/sqlite/group-commit.ts";
import { createKeyStore } from "../src/storage/sqlite/keys.ts";
import { openDatabase } from "../src/storage/sqlite/open.ts";
import { auditLog } from "../src/storage/sqlite/schema.ts";
import { createStore } from "../src/storage/sqlite/store.ts";
import { createTokenIssuer } from "../src/tokens/issuer.ts";
import { ROOT } from "./lib/child.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { REFUND, SUPPORT_CONFIG } from "./lib/fixtures.ts";
import { atMost, check, info, type Metric, ratioAtLeast } from "./lib/report.ts";
import { median } from "./lib/stats.ts";

const B = "audit";
const p = sql.placeholder;

export async function auditBench(ctx: BenchContext): Promise<Metric[]> {
  // Short rounds in rotating order: on a shared machine, load comes in bursts of
  // seconds, and many short rounds give every variant the same share of them.
  const rounds = pick(ctx.size, { tiny: 2, quick: 60, full: 150 });
  const perRound = pick(ctx.size, { tiny: 100, quick: 200, full: 200 });
  const events = pick(ctx.size, { tiny: 20_000, quick: 200_000, full: 1_000_000 });
  const { dir, cleanup } = workDir(B);
  try {
    ctx.say(
      `intake in-process: ${rounds} alternating rounds of ${perRound} requests, chained vs plain audit`,
    );
    const { chained, plain, before } = await intakeRounds(dir, rounds, perRound);
    ctx.say(`writing a chain of ${events.toLocaleString("en-US")} events`);
    const dbPath = join(dir, "verify.db");
    seedChain(dbPath, events);
    ctx.say("countersign audit verify (child process)");
    const run = await verifyInChild(dbPath);
    const metrics = [
      info(
        B,
        "intake, audit as before the chain (drizzle insert): req/s",
        before,
        "req/s",
        "in-process createRequest, WAL file",
      ),
      info(B, "intake, plain audit (same driver path, no chain): req/s", plain, "req/s"),
      ratioAtLeast(B, "intake, chained audit: req/s", chained, "req/s", plain, 0.95, "plain audit"),
      info(B, "intake, chained vs as before the chain", chained / before, "×"),
      atMost(
        B,
        `audit verify of ${events.toLocaleString("en-US")} events: wall time`,
        run.wallMs / 1000,
        "s",
        10,
        "node start-up included",
      ),
      info(B, "audit verify: time inside the command", run.commandMs / 1000, "s"),
      atMost(B, "audit verify: peak RSS", run.maxRssMb, "MB", 150),
      check(
        B,
        "audit verify answers ok for every event",
        run.code === 0 && run.out.includes(`ok, ${events} event(s)`),
        run.out.trim(),
      ),
    ];
    for (const m of metrics) ctx.emit(m);
    return metrics;
  } finally {
    cleanup();
  }
}

type Variant = "chained" | "plain" | "before";

/**
 * Median req/s of each variant over rotating rounds (after one warm-up round each):
 * chained (production), plain (the same raw insert without head read or hash: the
 * bar's baseline) and before (main's drizzle insert the chain replaced).
 */
async function intakeRounds(dir: string, rounds: number, perRound: number): Promise<Record<Variant, number>> {
  const parsed = parseConfig(SUPPORT_CONFIG, {});
  if (!parsed.ok) throw new Error(`bench config invalid: ${JSON.stringify(parsed.problems)}`);
  const config = parsed.config;
  const agent = config.agents[0];
  if (!agent) throw new Error("bench config has no agent");
  const body = createRequestBodySchema.parse(REFUND);
  const make = (variant: Variant) => {
    const database = openDatabase(join(dir, `${variant}.db`));
    let store: Store = createStore(database);
    const detailText = (d: unknown) => (d === undefined ? null : JSON.stringify(d));
    if (variant === "plain") {
      const insert = database.sqlite.prepare(
        "INSERT INTO audit_log (request_id, at, event, actor, detail) VALUES (?, ?, ?, ?, ?)",
      );
      store = { ...store, audit: async (r, at, e, a, d) => void insert.run(r, at, e, a, detailText(d)) };
    } else if (variant === "before") {
      const insert = database.db
        .insert(auditLog)
        .values({ requestId: p("r"), at: p("at"), event: p("e"), actor: p("a"), detail: p("d") })
        .prepare();
      store = {
        ...store,
        audit: async (r, at, e, a, d) => void insert.run({ r, at, e, a, d: detailText(d) }),
      };
    }
    const deps: Deps = {
      store,
      writes: createGroupCommit(database),
      config,
      clock: systemClock,
      events: new RequestEvents(),
      metrics: createMetrics({
        outboxDepth: async () => 0,
        pendingCallbacks: async () => 0,
        oldestPendingCreatedAt: async () => null,
        countPending: async () => 0,
        now: () => systemClock.now(),
      }),
      log: pino({ level: "silent" }),
      // Requests are routed to humans here: nothing is signed.
      tokens: createTokenIssuer({ keys: createKeyStore(database), config, suppliedKey: null }),
    };
    return {
      async round(): Promise<number> {
        const started = performance.now();
        // One at a time: each create commits on its own, as without group commit.
        for (let i = 0; i < perRound; i += 1) await createRequest(deps, agent, body, null);
        return perRound / ((performance.now() - started) / 1000);
      },
      close: () => database.sqlite.close(),
    };
  };
  const variants: Variant[] = ["chained", "plain", "before"];
  const runners = Object.fromEntries(variants.map((v) => [v, make(v)])) as Record<
    Variant,
    ReturnType<typeof make>
  >;
  try {
    for (const v of variants) await runners[v].round();
    const samples: Record<Variant, number[]> = { chained: [], plain: [], before: [] };
    for (let r = 0; r < rounds; r += 1) {
      for (let k = 0; k < variants.length; k += 1) {
        const v = variants[(r + k) % variants.length] as Variant;
        samples[v].push(await runners[v].round());
      }
    }
    return { chained: median(samples.chained), plain: median(samples.plain), before: median(samples.before) };
  } finally {
    for (const v of variants) runners[v].close();
  }
}

/** A realistic chain written in one transaction: request events of the shapes the service records. */
function seedChain(path: string, n: number): void {
  const { sqlite } = openDatabase(path);
  const insert = sqlite.prepare(
    "INSERT INTO audit_log (request_id, at, event, actor, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const shapes = [
    [
      "created",
      "agent:support-bot",
      () => `{"action":"refund.issue","args_hash":"sha256:${"ab".repeat(32)}","policy":"medium-refunds"}`,
    ],
    ["routed", null, () => `{"policy":"medium-refunds","role":"support-lead"}`],
    ["posted", null, () => `{"channel":"C0SUPPORT","ts":"1764700000.000100"}`],
    ["vote_approve", "slack:U0LEAD1", () => `{"comment":null,"name":"lead.one"}`],
    ["approved", "slack:U0LEAD1", () => `{"resolution":"approved_by_humans"}`],
    ["message_updated", null, () => `{"status":"approved"}`],
  ] as const;
  let prev = GENESIS_HASH;
  let requestId = "";
  const base = Date.parse("2026-01-01T00:00:00.000Z");
  sqlite.transaction(() => {
    for (let i = 0; i < n; i += 1) {
      const [event, actor, detail] = shapes[i % shapes.length] as (typeof shapes)[number];
      if (i % shapes.length === 0) requestId = `req_${randomUUID().replaceAll("-", "")}`;
      const content = { requestId, at: base + i * 50, event, actor, detail: detail() };
      const hash = chainHash(prev, content);
      insert.run(content.requestId, content.at, event, actor, content.detail, prev, hash);
      prev = hash;
    }
  })();
  sqlite.close();
}

async function verifyInChild(
  dbPath: string,
): Promise<{ code: number | null; wallMs: number; commandMs: number; maxRssMb: number; out: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(ROOT, "bench/lib/verify-child.ts")], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", DATABASE_PATH: dbPath },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: string[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(String(c)));
  child.stderr.on("data", (c: Buffer) => out.push(String(c)));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  const wallMs = performance.now() - started;
  const text = out.join("");
  const stats = /BENCH (\{.*\})/.exec(text)?.[1];
  const parsed = stats === undefined ? { commandMs: Number.NaN, maxRssKb: Number.NaN } : JSON.parse(stats);
  return {
    code,
    wallMs,
    commandMs: parsed.commandMs,
    maxRssMb: parsed.maxRssKb / 1024,
    out: text.replace(/BENCH .*\n?/, ""),
  };
}
