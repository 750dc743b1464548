/**
 * 4. Sweep: finding the due set (expiries, escalations, reminders) and one
 * sweep tick, in-process on the store, over 100k and 1M stored requests with
 * 1k and 10k of them due. Finding the due set should cost what the due rows
 * cost, whatever the number of stored ones.
 */
import { join } from "node:path";
import { pino } from "pino";
import { RequestEvents } from "../src/approvals/events.ts";
import { sweep } from "../src/approvals/sweep.ts";
import { parseConfig } from "../src/config/file.ts";
import { createMetrics } from "../src/metrics.ts";
import type { Store } from "../src/storage/ports.ts";
import { createGroupCommit } from "../src/storage/sqlite/group-commit.ts";
import { createKeyStore } from "../src/storage/sqlite/keys.ts";
import { openDatabase } from "../src/storage/sqlite/open.ts";
import { createStore } from "../src/storage/sqlite/store.ts";
import { createTokenIssuer } from "../src/tokens/issuer.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { pendingRow, range, type SeedRow, SUPPORT_CONFIG, seedRows } from "./lib/fixtures.ts";
import { atMost, info, type Metric } from "./lib/report.ts";
import { median, timeMsAsync, timesMsAsync } from "./lib/stats.ts";

const B = "sweep";
const REPEAT = 15;
const HOUR = 3_600_000;

/**
 * Row i < dueRows falls due at base + i ms, for one of the three reasons in
 * turn; the rest are half pending-but-not-due, half already final. So with
 * `now = base + k - 1` exactly k rows are due.
 */
function sweepRow(i: number, dueRows: number, base: number): SeedRow {
  const row = pendingRow(i, base - HOUR);
  const later = { expires_at: base + HOUR, escalate_at: base + HOUR / 2, remind_at: base + HOUR / 4 };
  if (i < dueRows) {
    const at = base + i;
    if (i % 3 === 0) return { ...row, ...later, expires_at: at, escalate_at: null, remind_at: null };
    if (i % 3 === 1) return { ...row, ...later, escalate_at: at, remind_at: null };
    return { ...row, ...later, remind_at: at };
  }
  if (i % 2 === 0) return { ...row, ...later };
  return {
    ...row,
    status: "approved",
    resolution: "approved_by_humans",
    decided_at: base - HOUR / 2,
    remind_at: null,
    escalate_at: null,
  };
}

async function findDue(store: Store, now: number): Promise<number> {
  const all = Number.MAX_SAFE_INTEGER;
  return (
    (await store.dueExpiries(now, all)).length +
    (await store.dueEscalations(now, all)).length +
    (await store.dueReminders(now, all)).length
  );
}

export async function sweepBench(ctx: BenchContext): Promise<Metric[]> {
  const storedSizes = pick(ctx.size, {
    tiny: [2_000, 20_000],
    quick: [20_000, 200_000],
    full: [100_000, 1_000_000],
  });
  const [fewDue, manyDue] = pick(ctx.size, {
    tiny: [100, 1_000],
    quick: [1_000, 10_000],
    full: [1_000, 10_000],
  }) as [number, number];
  const parsed = parseConfig(SUPPORT_CONFIG, {});
  if (!parsed.ok) throw new Error("bench config invalid");
  const k = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
  const found = new Map<string, number>();
  const metrics: Metric[] = [];
  const emit = (m: Metric) => {
    metrics.push(m);
    ctx.emit(m);
  };

  for (const stored of storedSizes) {
    const { dir, cleanup } = workDir(B);
    try {
      const database = openDatabase(join(dir, "sweep.db"));
      const base = Date.now() - HOUR;
      // fewDue rows for the first tick, manyDue more for the second.
      const dueRows = fewDue + manyDue;
      ctx.say(`seeding ${stored.toLocaleString("en-US")} stored requests`);
      seedRows(
        database.sqlite,
        range(stored, (i) => sweepRow(i, dueRows, base)),
      );
      database.sqlite.pragma("optimize");
      const store = createStore(database);
      const deps = {
        store,
        writes: createGroupCommit(database),
        config: parsed.config,
        clock: { now: () => base },
        events: new RequestEvents(),
        metrics: createMetrics({ ...store, now: () => base }),
        log: pino({ level: "silent" }),
        // The sweep never approves, so no key is needed.
        tokens: createTokenIssuer({
          keys: createKeyStore(database),
          config: parsed.config,
          suppliedKey: null,
        }),
      };

      for (const due of [fewDue, manyDue]) {
        const now = base + due - 1;
        const first = await timeMsAsync(async () => {
          const n = await findDue(store, now);
          if (n !== due) throw new Error(`expected ${due} due, found ${n}`);
        });
        const times = await timesMsAsync(REPEAT, () => findDue(store, now));
        const ms = median(times);
        found.set(`${stored}/${due}`, ms);
        const name = `find due set: ${k(stored)} stored, ${k(due)} due`;
        const note = `median of ${REPEAT}; first ${first.toFixed(2)} ms`;
        emit(
          stored === storedSizes[1] && due === fewDue
            ? atMost(B, name, ms, "ms", 20, note)
            : info(B, name, ms, "ms", note),
        );
      }

      // One tick over the first fewDue rows, then one over the next manyDue.
      for (const [due, now] of [
        [fewDue, base + fewDue - 1],
        [manyDue, base + dueRows - 1],
      ] as const) {
        let handled = 0;
        const ms = await timeMsAsync(async () => {
          const report = await sweep(deps, now);
          handled = report.expired + report.escalated + report.reminded;
        });
        if (handled !== due) throw new Error(`sweep handled ${handled}, expected ${due}`);
        emit(
          info(
            B,
            `one sweep tick: ${k(stored)} stored, ${k(due)} due`,
            ms,
            "ms",
            `${((ms * 1000) / due).toFixed(0)} µs per due row`,
          ),
        );
      }
      database.sqlite.close();
    } finally {
      cleanup();
    }
  }

  const [small, large] = storedSizes as [number, number];
  const storedGrowth =
    (found.get(`${large}/${fewDue}`) ?? Number.NaN) / (found.get(`${small}/${fewDue}`) ?? Number.NaN);
  const dueGrowth =
    (found.get(`${large}/${manyDue}`) ?? Number.NaN) / (found.get(`${large}/${fewDue}`) ?? Number.NaN);
  emit(
    atMost(
      B,
      `find due set: ×${large / small} stored rows → time ×`,
      storedGrowth,
      "×",
      2,
      `at ${k(fewDue)} due; should stay ~1`,
    ),
  );
  emit(
    info(
      B,
      `find due set: ×${manyDue / fewDue} due rows → time ×`,
      dueGrowth,
      "×",
      `at ${k(large)} stored; should be ~${manyDue / fewDue}`,
    ),
  );
  return metrics;
}
