/**
 * 1. Intake: POST /v1/requests under autocannon (50 connections) against a
 * bare node:http + one prepared insert baseline, both servers in child
 * processes, countersign's outbox draining to the fake Slack meanwhile.
 * Then 1b (intake-signing.ts): whether signing approval tokens limits intake.
 */
import { join } from "node:path";
import { signingComparison } from "./intake-signing.ts";
import { startChild } from "./lib/child.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { AGENT_TOKEN, REFUND, SUPPORT_CHANNEL, SUPPORT_CONFIG } from "./lib/fixtures.ts";
import { paced } from "./lib/http.ts";
import { type LoadResult, load } from "./lib/load.ts";
import { atMost, check, info, type Metric, ratioAtLeast } from "./lib/report.ts";
import { startCountersign, startFakeSlackChild } from "./lib/stack.ts";
import { percentile } from "./lib/stats.ts";

const B = "intake";
type Paced = Awaited<ReturnType<typeof paced>>;
const CONNECTIONS = 50;
/** A rate both servers sustain easily, sent at even intervals: the latency of the work, not of a queue. */
const FIXED_RATE = 200;

export async function intakeBench(ctx: BenchContext): Promise<Metric[]> {
  const warmupS = pick(ctx.size, { tiny: 0.5, quick: 2, full: 3 });
  const durationS = pick(ctx.size, { tiny: 0.5, quick: 4, full: 10 });
  const fixedS = pick(ctx.size, { tiny: 0.5, quick: 3, full: 5 });
  const { dir, cleanup } = workDir(B);
  const body = JSON.stringify(REFUND);
  const request = (url: string) => ({
    url: `${url}/v1/requests`,
    method: "POST",
    connections: CONNECTIONS,
    headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
    body,
  });
  /** Saturation (closed loop, 50 connections), then a fixed offered rate well below it (open loop). */
  const runBoth = async (url: string, even = true): Promise<[LoadResult, Paced]> => {
    const saturated = await load({ ...request(url), duration: durationS }, { seconds: warmupS });
    const { headers } = request(url);
    const fixed = even
      ? await paced(FIXED_RATE, fixedS, () => ({ url: `${url}/v1/requests`, method: "POST", headers, body }))
      : { latencies: [], failed: 0 };
    return [saturated, fixed];
  };
  try {
    const bareRun = async (writes: "one" | "same"): Promise<[LoadResult, Paced]> => {
      const server = await startChild<{ port: number }>(
        "bare.ts",
        { dbPath: join(dir, `bare-${writes}.db`), writes },
        { name: `intake-bare-${writes}`, logDir: dir, profileDir: ctx.profileDir },
      );
      try {
        return await runBoth(`http://127.0.0.1:${server.ready.port}`, writes === "one");
      } finally {
        await server.stop();
      }
    };
    ctx.say(`bare node:http + one prepared insert: ${warmupS} s warm-up, ${durationS} s measured`);
    const [bare, bareFixed] = await bareRun("one");
    ctx.say("bare node:http + the same four rows in one transaction");
    const [bareSame] = await bareRun("same");

    ctx.say(`countersign (outbox draining to the fake Slack): ${warmupS} s warm-up, ${durationS} s measured`);
    const slack = await startFakeSlackChild(B, dir);
    const stack = await startCountersign(ctx, B, dir, slack, {
      configYaml: SUPPORT_CONFIG,
      dbPath: join(dir, "cs.db"),
    });
    let cs: LoadResult;
    let csFixed: Paced;
    let posted: number;
    let backlog: number;
    try {
      const before = await stack.slackStats();
      [cs, csFixed] = await runBoth(stack.url);
      const after = await stack.slackStats();
      posted = (after.posts[SUPPORT_CHANNEL] ?? 0) - (before.posts[SUPPORT_CHANNEL] ?? 0);
      backlog = await stack.service.call<number>("outboxDepth");
    } finally {
      await stack.stop();
    }

    const metrics = [
      info(B, "bare: req/s", bare.rps, "req/s"),
      info(B, "bare: p50", percentile(bare.latencies, 50), "ms"),
      info(B, "bare: p99", percentile(bare.latencies, 99), "ms"),
      info(
        B,
        "bare, same 4 rows in 1 tx: req/s",
        bareSame.rps,
        "req/s",
        "not a bar: the floor of countersign's writes",
      ),
      ratioAtLeast(B, "countersign: req/s", cs.rps, "req/s", bare.rps, 0.8, "bare"),
      info(B, "countersign vs bare with the same writes", cs.rps / bareSame.rps, "×"),
      info(B, "countersign: p50", percentile(cs.latencies, 50), "ms"),
      atMost(B, "countersign: p99", percentile(cs.latencies, 99), "ms", 15),
      info(B, `bare: p99 at an even ${FIXED_RATE} req/s`, percentile(bareFixed.latencies, 99), "ms"),
      info(B, `countersign: p99 at an even ${FIXED_RATE} req/s`, percentile(csFixed.latencies, 99), "ms"),
      info(B, "outbox: Slack posts while loaded", posted, "msg", "one channel, one call at a time"),
      info(B, "outbox: backlog at the end", backlog, "items"),
      check(
        B,
        "every request answered 201",
        cs.failed + csFixed.failed + bare.failed + bareFixed.failed + bareSame.failed === 0,
        `countersign ${JSON.stringify(cs.statuses)}, bare ${JSON.stringify(bare.statuses)}`,
      ),
    ];
    for (const m of metrics) ctx.emit(m);
    const signing = await signingComparison(ctx, dir);
    for (const m of signing) ctx.emit(m);
    return [...metrics, ...signing];
  } finally {
    cleanup();
  }
}
