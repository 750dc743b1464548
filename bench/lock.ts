/**
 * 7. A foreign write lock: another process (this one) holds BEGIN IMMEDIATE on
 * countersign's database for 10 s while signed Approve clicks arrive at an
 * even rate and /healthz is polled. Every click must be answered inside
 * Slack's 3 s — stored and acked, or refused (HTTP 500 plus an ephemeral) when
 * it cannot be stored — and afterwards exactly the clicks acked 200 are recorded.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { approveClick, seedClickable } from "./click.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { SUPPORT_CHANNEL, SUPPORT_CONFIG } from "./lib/fixtures.ts";
import { newAgent, send } from "./lib/http.ts";
import { atMost, check, info, type Metric } from "./lib/report.ts";
import { startCountersign, startFakeSlackChild } from "./lib/stack.ts";
import { percentile, sleep } from "./lib/stats.ts";

const B = "lock";
/** Clicks per second while the lock is held. */
const RATE = 20;
/** /healthz polls per second. */
const HEALTH_RATE = 4;

export async function lockBench(ctx: BenchContext): Promise<Metric[]> {
  const holdS = pick(ctx.size, { tiny: 1, quick: 10, full: 10 });
  const pending = pick(ctx.size, { tiny: 500, quick: 10_000, full: 10_000 });
  const after = RATE; // clicks sent once the lock is gone
  const { dir, cleanup } = workDir(B);
  try {
    const slack = await startFakeSlackChild(B, dir);
    const clickable = RATE * holdS + after + 10;
    ctx.say(`seeding ${pending.toLocaleString("en-US")} pending requests`);
    const db = await seedClickable(join(dir, "cs.db"), pending, clickable, (count) =>
      slack.call<string[]>("prepost", { channel: SUPPORT_CHANNEL, count }),
    );
    const stack = await startCountersign(ctx, B, dir, slack, {
      configYaml: SUPPORT_CONFIG,
      dbPath: db.dbPath,
    });
    const agent = newAgent();
    const lock = new Database(db.dbPath);
    try {
      const clicks: { id: string; status: number; ms: number; whileLocked: boolean }[] = [];
      const health: { status: number; ms: number }[] = [];
      let next = 0;
      const click = async (whileLocked: boolean) => {
        const id = db.ids[next++];
        if (id === undefined) throw new Error("ran out of clickable requests");
        const res = await send(`${stack.url}/slack/events`, {
          method: "POST",
          agent,
          ...approveClick(db, id),
        });
        clicks.push({ id, status: res.status, ms: res.ms, whileLocked });
      };
      ctx.say(
        `holding the write lock for ${holdS} s; ${RATE} clicks/s and ${HEALTH_RATE} /healthz/s meanwhile`,
      );
      lock.exec("BEGIN IMMEDIATE");
      const started = performance.now();
      const released = sleep(holdS * 1000).then(() => lock.exec("ROLLBACK"));
      const inFlight: Promise<void>[] = [];
      for (let i = 0; i < RATE * holdS; i++) {
        const wait = started + (i * 1000) / RATE - performance.now();
        if (wait > 0) await sleep(wait);
        inFlight.push(click(true));
        if (i % (RATE / HEALTH_RATE) === 0) {
          inFlight.push(
            send(`${stack.url}/healthz`, { agent }).then((res) => {
              health.push({ status: res.status, ms: res.ms });
            }),
          );
        }
      }
      await released;
      ctx.say(`lock released; ${after} more clicks`);
      for (let i = 0; i < after; i++) {
        inFlight.push(click(false));
        await sleep(1000 / RATE);
      }
      await Promise.all(inFlight);
      const healthAfter = await send(`${stack.url}/healthz`, { agent });

      const recorded = recordedIds(db.dbPath);
      const acked = clicks.filter((c) => c.status === 200);
      const lost = acked.filter((c) => !recorded.has(c.id));
      const refusedButStored = clicks.filter((c) => c.status !== 200 && recorded.has(c.id));
      const locked = clicks.filter((c) => c.whileLocked);
      const all = clicks.map((c) => c.ms);
      const metrics = [
        atMost(
          B,
          `click answer p99 while the lock is held ${holdS} s`,
          percentile(
            locked.map((c) => c.ms),
            99,
          ),
          "ms",
          3000,
        ),
        info(
          B,
          "click answer p50 while locked",
          percentile(
            locked.map((c) => c.ms),
            50,
          ),
          "ms",
        ),
        info(B, "click answer max (whole run)", Math.max(...all), "ms"),
        info(
          B,
          "clicks while locked: stored + acked / refused",
          locked.filter((c) => c.status === 200).length,
          "acked",
          `${locked.filter((c) => c.status !== 200).length} refused (HTTP 500 + ephemeral) of ${locked.length}`,
        ),
        info(
          B,
          "/healthz answer p99 while locked",
          percentile(
            health.map((h) => h.ms),
            99,
          ),
          "ms",
        ),
        info(
          B,
          "/healthz 503 while locked",
          health.filter((h) => h.status === 503).length,
          "answers",
          `of ${health.length}; 200 after the lock: ${healthAfter.status === 200 ? "yes" : "no"}`,
        ),
        check(
          B,
          "every click acked 200 is recorded, no refused click is, clicks after the lock are acked",
          lost.length === 0 &&
            refusedButStored.length === 0 &&
            clicks.filter((c) => !c.whileLocked).every((c) => c.status === 200),
          `${acked.length} acked, ${recorded.size} recorded, ${lost.length} lost, ${refusedButStored.length} refused but stored`,
        ),
      ];
      for (const m of metrics) ctx.emit(m);
      return metrics;
    } finally {
      if (lock.inTransaction) lock.exec("ROLLBACK");
      lock.close();
      agent.destroy();
      await stack.stop();
    }
  } finally {
    cleanup();
  }
}

function recordedIds(dbPath: string): Set<string> {
  const sqlite = new Database(dbPath, { readonly: true });
  try {
    const rows = sqlite.prepare("SELECT request_id AS id FROM decisions").all() as { id: string }[];
    return new Set(rows.map((r) => r.id));
  } finally {
    sqlite.close();
  }
}
