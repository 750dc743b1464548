/**
 * 1. Intake: POST /v1/requests under autocannon (50 connections) against a
 * bare node:http + one prepared insert baseline, both servers in child
 * processes, countersign's outbox draining to the fake Slack meanwhile.
 */
import { join } from "node:path";
import { startChild } from "./lib/child.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { AGENT_TOKEN, REFUND, SUPPORT_CHANNEL, SUPPORT_CONFIG } from "./lib/fixtures.ts";
import { type LoadResult, load } from "./lib/load.ts";
import { atMost, check, info, type Metric, ratioAtLeast } from "./lib/report.ts";
import { startCountersign, startFakeSlackChild } from "./lib/stack.ts";
import { percentile } from "./lib/stats.ts";

const B = "intake";
const CONNECTIONS = 50;

export async function intakeBench(ctx: BenchContext): Promise<Metric[]> {
  const warmupS = pick(ctx.size, { tiny: 0.2, quick: 2, full: 3 });
  const durationS = pick(ctx.size, { tiny: 0.5, quick: 4, full: 10 });
  const { dir, cleanup } = workDir(B);
  const body = JSON.stringify(REFUND);
  const run = (url: string, duration: number) =>
    load({
      url: `${url}/v1/requests`,
      method: "POST",
      connections: CONNECTIONS,
      duration,
      headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
      body,
    });
  try {
    ctx.say(`bare node:http + one prepared insert: ${warmupS} s warm-up, ${durationS} s measured`);
    const bareServer = await startChild<{ port: number }>(
      "bare.ts",
      { dbPath: join(dir, "bare.db") },
      { name: "intake-bare", logDir: dir, profileDir: ctx.profileDir },
    );
    let bare: LoadResult;
    try {
      const url = `http://127.0.0.1:${bareServer.ready.port}`;
      await run(url, warmupS);
      bare = await run(url, durationS);
    } finally {
      await bareServer.stop();
    }

    ctx.say(`countersign (outbox draining to the fake Slack): ${warmupS} s warm-up, ${durationS} s measured`);
    const slack = await startFakeSlackChild(B, dir);
    const stack = await startCountersign(ctx, B, dir, slack, {
      configYaml: SUPPORT_CONFIG,
      dbPath: join(dir, "cs.db"),
    });
    let cs: LoadResult;
    let posted: number;
    let backlog: number;
    try {
      await run(stack.url, warmupS);
      const before = await stack.slackStats();
      cs = await run(stack.url, durationS);
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
      ratioAtLeast(B, "countersign: req/s", cs.rps, "req/s", bare.rps, 0.8, "bare"),
      info(B, "countersign: p50", percentile(cs.latencies, 50), "ms"),
      atMost(B, "countersign: p99", percentile(cs.latencies, 99), "ms", 15),
      info(B, "outbox: Slack posts/s during the run", posted / cs.durationS, "msg/s"),
      info(B, "outbox: backlog at the end", backlog, "items"),
      check(
        B,
        "every request answered 201",
        cs.failed === 0 && bare.failed === 0,
        `countersign ${JSON.stringify(cs.statuses)}, bare ${JSON.stringify(bare.statuses)}`,
      ),
    ];
    for (const m of metrics) ctx.emit(m);
    return metrics;
  } finally {
    cleanup();
  }
}
