/**
 * PostgreSQL store overhead: what drizzle's prepared statements, routed through
 * the transaction-aware session (src/storage/pg/session.ts), cost per call against
 * the same statement sent with bare `pg` (a named prepared statement on the
 * same pool), in the same run on a throwaway cluster (scripts/pg-cluster.mjs).
 * Sequential calls (latency-bound) and 8 in flight (throughput).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getTableColumns } from "drizzle-orm";
import pg from "pg";
import type { NewRequestRecord } from "../src/domain/records.ts";
import { openPostgresBackend } from "../src/storage/pg/index.ts";
import { requests } from "../src/storage/pg/schema.ts";
import { ROOT } from "./lib/child.ts";
import { type BenchContext, pick } from "./lib/context.ts";
import { info, type Metric, ratioAtLeast } from "./lib/report.ts";

const B = "pgstore";
const script = join(ROOT, "scripts/pg-cluster.mjs");

const columns = Object.values(getTableColumns(requests)).map((c) => c.name);
const keys = Object.keys(getTableColumns(requests)) as (keyof NewRequestRecord)[];
const RAW_INSERT = `INSERT INTO requests (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`;

function row(id: string): Required<NewRequestRecord> {
  return {
    id,
    agent: "bench",
    status: "pending",
    resolution: null,
    action: "refund",
    summary: "Refund order 1234",
    target: "order:1234",
    params: '{"amount":120,"currency":"EUR"}',
    reason: "customer asked",
    risk: null,
    evidence: "{}",
    runId: null,
    onBehalfOf: null,
    callbackUrl: null,
    argsHash: "sha256:abc",
    policy: "refunds",
    role: "finance",
    approvalsRequired: 1,
    ttlMs: 3_600_000,
    createdAt: 1_700_000_000_000,
    expiresAt: 1_700_003_600_000,
    remindAt: null,
    escalateAt: null,
    escalatedAt: null,
    escalatedTo: null,
    decidedAt: null,
    outcome: null,
    slackChannel: "C1",
    slackTs: null,
    dmChannel: null,
    dmTs: null,
    idempotencyKey: null,
    bodyHash: "sha256:def",
    approvedParams: null,
    approvedArgsHash: null,
    editedBy: null,
    revises: null,
    revisedBy: null,
    slackThreadTs: null,
    approvalToken: null,
  };
}

/** Calls per second for n calls of fn, `inFlight` at a time. */
async function rate(n: number, inFlight: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < n; i = next++) await fn(i);
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

export async function pgStoreBench(ctx: BenchContext): Promise<Metric[]> {
  const n = pick(ctx.size, { tiny: 200, quick: 2_000, full: 5_000 });
  const rounds = pick(ctx.size, { tiny: 1, quick: 3, full: 3 });
  const dir = mkdtempSync(join(tmpdir(), "countersign-bench-pg-"));
  let url: string;
  try {
    url = execFileSync(process.execPath, [script, "start", "--dir", dir], { encoding: "utf8" }).trim();
  } catch (error) {
    const m = info(
      B,
      "skipped",
      0,
      "",
      `no PostgreSQL to start (${(error as Error).message.split("\n")[0]})`,
    );
    ctx.emit(m);
    return [m];
  }
  const metrics: Metric[] = [];
  const emit = (m: Metric) => {
    metrics.push(m);
    ctx.emit(m);
  };
  const log = { info: () => {}, warn: () => {}, error: () => {} } as never;
  const backend = await openPostgresBackend(url, { log, poolSize: 8 });
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  try {
    const best = { raw: 0, store: 0, rawGet: 0, storeGet: 0, raw8: 0, store8: 0 };
    let seq = 0;
    const rawInsert = () => {
      const v = row(`raw-${seq++}`);
      return pool.query({ name: "bench_raw_insert", text: RAW_INSERT, values: keys.map((k) => v[k]) });
    };
    const storeInsert = () => backend.store.insertRequest(row(`st-${seq++}`));
    const rawGet = (i: number) =>
      pool.query({
        name: "bench_raw_get",
        text: "SELECT * FROM requests WHERE id = $1",
        values: [`raw-${i}`],
      });
    const storeGet = (i: number) => backend.store.getRequest(`st-${i}`);
    /** Both sides of a pair, the order flipped every round: neither always meets the bigger table. */
    const pair = async (r: number, a: () => Promise<number>, b: () => Promise<number>) => {
      if (r % 2 === 0) return [await a(), await b()] as const;
      const second = await b();
      return [await a(), second] as const;
    };
    for (let r = 0; r < rounds; r += 1) {
      const [raw, store] = await pair(
        r,
        () => rate(n, 1, rawInsert),
        () => rate(n, 1, storeInsert),
      );
      const [rawG, storeG] = await pair(
        r,
        () => rate(n, 1, rawGet),
        () => rate(n, 1, storeGet),
      );
      const [raw8, store8] = await pair(
        r,
        () => rate(n, 8, rawInsert),
        () => rate(n, 8, storeInsert),
      );
      best.raw = Math.max(best.raw, raw);
      best.store = Math.max(best.store, store);
      best.rawGet = Math.max(best.rawGet, rawG);
      best.storeGet = Math.max(best.storeGet, storeG);
      best.raw8 = Math.max(best.raw8, raw8);
      best.store8 = Math.max(best.store8, store8);
    }
    emit(info(B, "bare pg insert, sequential", best.raw, "/s"));
    emit(ratioAtLeast(B, "store.insertRequest, sequential", best.store, "/s", best.raw, 0.8, "bare pg"));
    emit(info(B, "bare pg select by id, sequential", best.rawGet, "/s"));
    emit(ratioAtLeast(B, "store.getRequest, sequential", best.storeGet, "/s", best.rawGet, 0.8, "bare pg"));
    emit(info(B, "bare pg insert, 8 in flight", best.raw8, "/s"));
    emit(ratioAtLeast(B, "store.insertRequest, 8 in flight", best.store8, "/s", best.raw8, 0.8, "bare pg"));
  } finally {
    await pool.end();
    await backend.close();
    execFileSync(process.execPath, [script, "stop", "--dir", dir], { stdio: "ignore" });
  }
  return metrics;
}
