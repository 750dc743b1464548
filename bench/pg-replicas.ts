/**
 * `npm run bench -- --db=postgres`: intake and click on PostgreSQL with 1 and
 * 3 countersign replicas sharing one database (a throwaway cluster started
 * here, scripts/pg-cluster.mjs), against a bare node:http + `pg` server
 * (bench/servers/bare-pg.ts) in the same run. Every server is a child
 * process; the load (autocannon, this process) is spread evenly over the
 * replicas, as a round-robin load balancer would.
 *
 * Printed: countersign ÷ bare (1 replica vs 1 bare process), the 3-replica
 * aggregate ÷ 1 replica, the same for 3 bare processes (what the machine
 * itself allows), and exactly-once checks: every accepted request is posted
 * to the channel once, every click recorded once.
 *
 * All of it — PostgreSQL, the replicas, the fake Slack and the load
 * generator — shares one machine: on 2 cores, 3 replicas cannot be 2× one.
 */
import type { Options } from "autocannon";
import { toResource } from "../src/approvals/resource.ts";
import { renderRequestMessage } from "../src/slack/render/index.ts";
import { openPostgresBackend } from "../src/storage/pg/index.ts";
import { approveClick, type ClickableDb } from "./click.ts";
import { type Child, startChild } from "./lib/child.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { AGENT_TOKEN, pendingRow, REFUND, SUPPORT_CHANNEL, SUPPORT_CONFIG, seedId } from "./lib/fixtures.ts";
import { type LoadResult, load, type Warmup } from "./lib/load.ts";
import { type Cluster, startCluster } from "./lib/pg.ts";
import { check, info, type Metric, ratioAtLeast } from "./lib/report.ts";
import { startFakeSlackChild } from "./lib/stack.ts";
import { percentile, sleep } from "./lib/stats.ts";
import type { BarePgOptions } from "./servers/bare-pg.ts";
import type { CountersignChildOptions } from "./servers/countersign.ts";
import type { FakeSlackStats } from "./servers/fake-slack.ts";

type Server = Child<{ port: number; url?: string }>;
type SlackChild = Child<{ url: string; port: number }>;

const INTAKE_CONNECTIONS = 48;
const CLICK_CONCURRENT = 96;

/** Starts `n` children at once (replicas starting together also exercise the migration lock). */
async function startMany(n: number, start: (i: number) => Promise<Server>): Promise<Server[]> {
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => start(i)));
  const started = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failure = settled.find((s) => s.status === "rejected");
  if (failure) {
    await Promise.all(started.map((s) => s.stop()));
    throw failure.reason;
  }
  return started;
}

const stopAll = (servers: Server[]) => Promise.all(servers.map((s) => s.stop()));

function replicas(
  ctx: BenchContext,
  name: string,
  dir: string,
  slack: SlackChild,
  databaseUrl: string,
  n: number,
): Promise<Server[]> {
  return startMany(n, (i) =>
    startChild(
      process.env.BENCH_COUNTERSIGN_ENTRY ?? "countersign.ts",
      {
        configYaml: SUPPORT_CONFIG,
        databaseUrl,
        slackApiUrl: slack.ready.url,
      } satisfies CountersignChildOptions,
      { name: `${name}-countersign-${n}x-${i}`, logDir: dir, profileDir: ctx.profileDir },
    ),
  );
}

function bares(name: string, dir: string, options: BarePgOptions, n: number): Promise<Server[]> {
  return startMany(n, (i) =>
    startChild("bare-pg.ts", options, { name: `${name}-bare-${n}x-${i}`, logDir: dir }),
  );
}

const urlOf = (s: Server) => `http://127.0.0.1:${s.ready.port}`;

/** CPU time (µs) the servers used, summed. */
async function cpuOf(servers: Server[]): Promise<number> {
  const all = await Promise.all(servers.map((s) => s.call<NodeJS.CpuUsage>("cpu")));
  return all.reduce((sum, c) => sum + c.user + c.system, 0);
}

/**
 * The same load split evenly over the servers (each gets its share of the
 * connections and of the amount), run at once; rates add up, latencies pool.
 */
async function spread(
  servers: Server[],
  options: (url: string, share: { connections: number; amount?: number }) => Options,
  total: { connections: number; amount?: number },
  warmup: Warmup,
): Promise<LoadResult> {
  const n = servers.length;
  const share = {
    connections: Math.ceil(total.connections / n),
    ...(total.amount === undefined ? {} : { amount: Math.ceil(total.amount / n) }),
  };
  const part =
    "responses" in warmup ? { responses: Math.ceil(warmup.responses / n) } : { seconds: warmup.seconds };
  const results = await Promise.all(servers.map((s) => load(options(urlOf(s), share), part)));
  const statuses: Record<string, number> = {};
  for (const r of results)
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    rps: results.reduce((sum, r) => sum + r.rps, 0),
    ok: results.reduce((sum, r) => sum + r.ok, 0),
    failed: results.reduce((sum, r) => sum + r.failed, 0),
    statuses,
    durationS: Math.max(...results.map((r) => r.durationS)),
    latencies: results.flatMap((r) => r.latencies),
  };
}

const answered = (r: LoadResult) => Object.values(r.statuses).reduce((a, b) => a + b, 0);

async function count(cluster: Cluster, url: string, sql: string, values: unknown[] = []): Promise<number> {
  const rows = await cluster.query<{ n: string }>(url, sql, values);
  return Number(rows[0]?.n ?? 0);
}

/** Waits (bounded) until the shared outbox is empty: every replica's Slack calls made. */
async function drain(cluster: Cluster, url: string, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = await count(cluster, url, "SELECT count(*) AS n FROM slack_outbox");
    if (left === 0 || performance.now() > deadline) return left;
    await sleep(200);
  }
}

function withCluster(
  name: string,
  ctx: BenchContext,
  run: (cluster: Cluster, dir: string) => Promise<Metric[]>,
): Promise<Metric[]> {
  let cluster: Cluster;
  try {
    cluster = startCluster();
  } catch (error) {
    const m = info(
      name,
      "skipped",
      0,
      "",
      `no PostgreSQL to start (${(error as Error).message.split("\n")[0]})`,
    );
    ctx.emit(m);
    return Promise.resolve([m]);
  }
  const { dir, cleanup } = workDir(name);
  return run(cluster, dir).finally(() => {
    cluster.stop();
    cleanup();
  });
}

const emitAll = (ctx: BenchContext, metrics: Metric[]): Metric[] => {
  for (const m of metrics) ctx.emit(m);
  return metrics;
};

/** Intake (POST /v1/requests, 48 connections) on PostgreSQL: 1 and 3 replicas vs 1 and 3 bare processes. */
export function pgIntakeBench(ctx: BenchContext): Promise<Metric[]> {
  const B = "pg-intake";
  const warmupS = pick(ctx.size, { tiny: 0.5, quick: 2, full: 3 });
  const durationS = pick(ctx.size, { tiny: 0.5, quick: 4, full: 10 });
  const body = JSON.stringify(REFUND);
  const options = (url: string, share: { connections: number }): Options => ({
    url: `${url}/v1/requests`,
    method: "POST",
    connections: share.connections,
    duration: durationS,
    headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
    body,
  });
  const total = { connections: INTAKE_CONNECTIONS };
  return withCluster(B, ctx, async (cluster, dir) => {
    const bareUrl = await cluster.database("bare_intake", { migrate: true });
    const measureBare = async (n: number) => {
      ctx.say(`bare node:http + pg insert, ${n} process(es): ${warmupS} s warm-up, ${durationS} s measured`);
      const servers = await bares(B, dir, { databaseUrl: bareUrl, mode: "intake" }, n);
      try {
        const cpu0 = await cpuOf(servers);
        const r = await spread(servers, options, total, { seconds: warmupS });
        return { r, cpuUs: ((await cpuOf(servers)) - cpu0) / Math.max(1, answered(r)) };
      } finally {
        await stopAll(servers);
      }
    };
    const slack = await startFakeSlackChild(B, dir);
    const measureCs = async (n: number) => {
      const url = await cluster.database(`cs_intake_${n}`);
      ctx.say(`countersign, ${n} replica(s) on one database: ${warmupS} s warm-up, ${durationS} s measured`);
      const servers = await replicas(ctx, B, dir, slack, url, n);
      const before = await slack.call<FakeSlackStats>("stats");
      let r: LoadResult;
      let cpuUs: number;
      let left: number;
      try {
        const cpu0 = await cpuOf(servers);
        r = await spread(servers, options, total, { seconds: warmupS });
        cpuUs = ((await cpuOf(servers)) - cpu0) / Math.max(1, answered(r));
        left = await drain(cluster, url, pick(ctx.size, { tiny: 30_000, quick: 60_000, full: 120_000 }));
      } finally {
        await stopAll(servers);
      }
      const after = await slack.call<FakeSlackStats>("stats");
      const posted = (after.posts[SUPPORT_CHANNEL] ?? 0) - (before.posts[SUPPORT_CHANNEL] ?? 0);
      const duplicates = after.duplicates - before.duplicates;
      const stored = await count(cluster, url, "SELECT count(*) AS n FROM requests");
      const accepted = r.statuses["201"] ?? 0;
      return { r, cpuUs, posted, duplicates, stored, accepted, left };
    };
    try {
      const bare1 = await measureBare(1);
      const cs1 = await measureCs(1);
      const bare3 = await measureBare(3);
      const cs3 = await measureCs(3);
      const fanout = (n: number, c: typeof cs1) =>
        check(
          B,
          `${n} replica(s): each request posted once`,
          c.left === 0 && c.duplicates === 0 && c.posted === c.stored && c.accepted <= c.stored,
          `${c.accepted} answered 201, ${c.stored} stored, ${c.posted} channel messages, ${c.duplicates} duplicates, ${c.left} left queued`,
        );
      return emitAll(ctx, [
        info(B, "bare ×1: req/s", bare1.r.rps, "req/s"),
        info(B, "bare ×1: p99", percentile(bare1.r.latencies, 99), "ms"),
        ratioAtLeast(B, "countersign ×1: req/s", cs1.r.rps, "req/s", bare1.r.rps, 0.8, "bare ×1"),
        info(B, "countersign ×1: p50", percentile(cs1.r.latencies, 50), "ms"),
        info(B, "countersign ×1: p99", percentile(cs1.r.latencies, 99), "ms"),
        info(B, "bare ×3 processes: req/s", bare3.r.rps, "req/s"),
        info(B, "bare ×3 ÷ bare ×1", bare3.r.rps / bare1.r.rps, "×", "what this machine allows"),
        ratioAtLeast(B, "countersign ×3 replicas: req/s", cs3.r.rps, "req/s", cs1.r.rps, 2, "1 replica"),
        info(B, "countersign ×3 ÷ bare ×3", cs3.r.rps / bare3.r.rps, "×"),
        info(B, "countersign ×3: p99", percentile(cs3.r.latencies, 99), "ms"),
        info(B, "bare ×1: CPU per request", bare1.cpuUs, "µs", "servers only"),
        info(B, "countersign ×1: CPU per request", cs1.cpuUs, "µs", "outbox draining included"),
        info(B, "countersign ×3: CPU per request", cs3.cpuUs, "µs", "summed over the replicas"),
        check(
          B,
          "every request answered 201",
          bare1.r.failed + bare3.r.failed + cs1.r.failed + cs3.r.failed === 0,
          `countersign ×1 ${JSON.stringify(cs1.r.statuses)}, ×3 ${JSON.stringify(cs3.r.statuses)}`,
        ),
        fanout(1, cs1),
        fanout(3, cs3),
      ]);
    } finally {
      await slack.stop();
    }
  });
}

/** Seeds `pending` pending requests (the first `clickable` with a real message in the fake Slack). */
async function seedPg(
  cluster: Cluster,
  url: string,
  pending: number,
  clickable: number,
  slack: SlackChild,
): Promise<ClickableDb> {
  const stamps = await slack.call<string[]>("prepost", { channel: SUPPORT_CHANNEL, count: clickable });
  const now = Date.now();
  const BATCH = 1000;
  for (let from = 0; from < pending; from += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, pending - from) }, (_, k) => {
      const i = from + k;
      return { ...pendingRow(i, now), ...(i < clickable ? { slack_ts: stamps[i] ?? null } : {}) };
    });
    const columns = Object.keys(rows[0] ?? {});
    const values: unknown[] = [];
    const tuples = rows.map((row) => {
      const start = values.length;
      values.push(...columns.map((c) => (row as Record<string, unknown>)[c]));
      return `(${columns.map((_, j) => `$${start + j + 1}`).join(", ")})`;
    });
    await cluster.query(
      url,
      `INSERT INTO requests (${columns.join(", ")}) VALUES ${tuples.join(", ")}`,
      values,
    );
  }
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const backend = await openPostgresBackend(url, { log: quiet, poolSize: 1, migrate: false });
  try {
    const row = await backend.store.getRequest(seedId(0));
    if (!row) throw new Error("seeded row missing");
    const message = renderRequestMessage(toResource(row, []), {
      redactKeys: [],
      needsConfirm: false,
      escalatedTo: null,
      ttlText: "30m",
      nowMs: now,
    });
    const ids = Array.from({ length: clickable }, (_, i) => seedId(i));
    return { dbPath: url, ids, ts: new Map(ids.map((id, i) => [id, stamps[i] ?? ""])), message };
  } finally {
    await backend.close();
  }
}

/** Click to ack on PostgreSQL: signed Approve clicks, each on another pending request, 96 concurrent. */
export function pgClickBench(ctx: BenchContext): Promise<Metric[]> {
  const B = "pg-click";
  const pending = pick(ctx.size, { tiny: 2_000, quick: 20_000, full: 100_000 });
  const warmup = pick(ctx.size, { tiny: 100, quick: 500, full: 1_000 });
  const clicks = pick(ctx.size, { tiny: 200, quick: 3_000, full: 10_000 });
  return withCluster(B, ctx, async (cluster, dir) => {
    const slack = await startFakeSlackChild(B, dir);
    try {
      const url = await cluster.database("clicks", { migrate: true });
      // Three slices, one per measured configuration; a margin for requests autocannon builds but never sends.
      const slice = warmup + clicks + 2 * CLICK_CONCURRENT;
      ctx.say(`seeding ${pending.toLocaleString("en-US")} pending requests`);
      const db = await seedPg(cluster, url, Math.max(pending, 3 * slice), 3 * slice, slack);
      const measure = async (servers: Server[], ids: string[]) => {
        let next = 0;
        const options = (target: string, share: { connections: number; amount?: number }): Options => ({
          url: `${target}/slack/events`,
          method: "POST",
          connections: share.connections,
          ...(share.amount === undefined ? {} : { amount: share.amount }),
          requests: [
            {
              setupRequest: (request) => {
                const id = ids[next++];
                if (id === undefined) throw new Error("ran out of clickable requests");
                return { ...request, ...approveClick(db, id) };
              },
            },
          ],
        });
        const cpu0 = await cpuOf(servers);
        const r = await spread(
          servers,
          options,
          { connections: CLICK_CONCURRENT, amount: clicks },
          { responses: warmup },
        );
        const cpuUs = ((await cpuOf(servers)) - cpu0) / Math.max(1, answered(r));
        return { r, cpuUs };
      };
      const recorded = async (ids: string[]) => ({
        decisions: await count(
          cluster,
          url,
          "SELECT count(*) AS n FROM decisions WHERE request_id = ANY($1)",
          [ids],
        ),
        approved: await count(
          cluster,
          url,
          "SELECT count(*) AS n FROM requests WHERE status = 'approved' AND id = ANY($1)",
          [ids],
        ),
      });
      const sliceOf = (k: number) => db.ids.slice(k * slice, (k + 1) * slice);

      ctx.say(`bare node:http + pg conditional update: ${warmup} warm-up clicks, ${clicks} measured`);
      const bareServers = await bares(B, dir, { databaseUrl: url, mode: "click" }, 1);
      let bare: Awaited<ReturnType<typeof measure>>;
      try {
        bare = await measure(bareServers, sliceOf(0));
      } finally {
        await stopAll(bareServers);
      }
      const bareRecorded = await recorded(sliceOf(0));

      const measureCs = async (n: number, k: number) => {
        ctx.say(`countersign, ${n} replica(s): ${warmup} warm-up clicks, ${clicks} measured`);
        const servers = await replicas(ctx, B, dir, slack, url, n);
        const before = await slack.call<FakeSlackStats>("stats");
        let result: Awaited<ReturnType<typeof measure>> & { left: number; updates: number };
        try {
          const m = await measure(servers, sliceOf(k));
          // The decisions' chat.update calls (one channel: one at a time), made by
          // whichever replica claims them; counted, not waited for.
          const left = await drain(
            cluster,
            url,
            pick(ctx.size, { tiny: 10_000, quick: 5_000, full: 10_000 }),
          );
          const after = await slack.call<FakeSlackStats>("stats");
          result = { ...m, left, updates: after.updates - before.updates };
        } finally {
          await stopAll(servers);
        }
        // What is still queued would be the next configuration's work: not part of its measurement.
        await cluster.query(url, "DELETE FROM slack_outbox");
        return { ...result, ...(await recorded(sliceOf(k))) };
      };
      const cs1 = await measureCs(1, 1);
      const cs3 = await measureCs(3, 2);
      const once = (n: number, c: typeof cs1) => {
        const acked = c.r.statuses["200"] ?? 0;
        return check(
          B,
          `${n} replica(s): every click acked 200 and recorded once`,
          c.r.failed === 0 && c.decisions === acked && c.approved === acked,
          `${JSON.stringify(c.r.statuses)}; ${c.decisions} decisions, ${c.approved} approved`,
        );
      };
      return emitAll(ctx, [
        info(B, "bare ×1: clicks/s", bare.r.rps, "clicks/s", "one conditional UPDATE per click"),
        info(B, "bare ×1: p99", percentile(bare.r.latencies, 99), "ms"),
        ratioAtLeast(B, "countersign ×1: clicks/s", cs1.r.rps, "clicks/s", bare.r.rps, 0.8, "bare ×1"),
        info(
          B,
          `countersign ×1: ack p50 (${pending / 1000}k pending)`,
          percentile(cs1.r.latencies, 50),
          "ms",
        ),
        info(B, "countersign ×1: ack p99", percentile(cs1.r.latencies, 99), "ms", "Slack allows 3 s"),
        ratioAtLeast(
          B,
          "countersign ×3 replicas: clicks/s",
          cs3.r.rps,
          "clicks/s",
          cs1.r.rps,
          2,
          "1 replica",
        ),
        info(B, "countersign ×3: ack p99", percentile(cs3.r.latencies, 99), "ms"),
        info(B, "countersign ×1: CPU per click", cs1.cpuUs, "µs", "chat.update calls included"),
        info(B, "countersign ×3: CPU per click", cs3.cpuUs, "µs", "summed over the replicas"),
        info(
          B,
          "countersign ×1: messages updated by the end",
          cs1.updates,
          "msg",
          `${cs1.left} chat.update calls still queued`,
        ),
        info(
          B,
          "countersign ×3: messages updated by the end",
          cs3.updates,
          "msg",
          `${cs3.left} chat.update calls still queued`,
        ),
        check(
          B,
          "bare: every click answered 200 and applied",
          bare.r.failed === 0 && bareRecorded.approved === (bare.r.statuses["200"] ?? 0),
          `${JSON.stringify(bare.r.statuses)}; ${bareRecorded.approved} approved`,
        ),
        once(1, cs1),
        once(3, cs3),
      ]);
    } finally {
      await slack.stop();
    }
  });
}
