/**
 * 6. Slack fan-out: many requests over 10 channels against a fake Slack that
 * allows 1 post per channel per second (burst 3) and answers 429 past it.
 * Every message must be posted exactly once, at close to the allowed rate.
 */
import { join } from "node:path";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { AGENT_TOKEN, fanoutChannel, fanoutConfig } from "./lib/fixtures.ts";
import { newAgent, pool, send } from "./lib/http.ts";
import { check, info, type Metric, ratioAtLeast } from "./lib/report.ts";
import { startCountersign, startFakeSlackChild } from "./lib/stack.ts";
import { sleep } from "./lib/stats.ts";

const B = "fanout";
const CHANNELS = 10;
const RATE = { perChannelPerSecond: 1, burst: 3 };

export async function fanoutBench(ctx: BenchContext): Promise<Metric[]> {
  const total = pick(ctx.size, { tiny: 40, quick: 100, full: 1_000 });
  const perChannel = total / CHANNELS;
  const allowed = CHANNELS * RATE.perChannelPerSecond;
  const { dir, cleanup } = workDir(B);
  try {
    const slack = await startFakeSlackChild(B, dir, { rateLimit: RATE });
    const stack = await startCountersign(ctx, B, dir, slack, {
      configYaml: fanoutConfig(CHANNELS),
      dbPath: join(dir, "cs.db"),
    });
    const sockets = newAgent();
    try {
      const minimumS = (perChannel - RATE.burst) / RATE.perChannelPerSecond;
      ctx.say(`${total} requests over ${CHANNELS} channels; the rate limit allows it in ≥ ${minimumS} s`);
      const started = Date.now();
      const statuses = await pool(total, 20, async (i) => {
        const res = await send(`${stack.url}/v1/requests`, {
          method: "POST",
          headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({
            action: `fanout.${i % CHANNELS}`,
            summary: `Fan-out request ${i}`,
            params: { n: i },
          }),
          agent: sockets,
        });
        return res.status;
      });
      const deadline = started + (minimumS * 3 + 60) * 1000;
      let stats = await stack.slackStats();
      const posted = () => Object.values(stats.distinctRequests).reduce((a, b) => a + b, 0);
      while (posted() < total && Date.now() < deadline) {
        await sleep(250);
        stats = await stack.slackStats();
      }
      const elapsedS = ((stats.lastPostAt ?? Date.now()) - started) / 1000;
      await sleep(2_000); // anything posted twice would show up now
      stats = await stack.slackStats();

      const channels = Array.from({ length: CHANNELS }, (_, i) => fanoutChannel(i));
      const exact = channels.every(
        (c) => stats.posts[c] === perChannel && stats.distinctRequests[c] === perChannel,
      );
      const perChannelText = channels.map((c) => stats.posts[c] ?? 0).join("/");
      const rate = posted() / elapsedS;
      const metrics = [
        check(
          B,
          `all ${total} posted exactly once`,
          exact && stats.duplicates === 0 && statuses.every((s) => s === 201),
          `per channel ${perChannelText}, ${stats.duplicates} duplicates`,
        ),
        info(B, "time to post all", elapsedS, "s", `the limit allows ≥ ${minimumS} s`),
        // The issue sets no bar here; 90% of the allowed rate is this suite's.
        ratioAtLeast(B, "achieved post rate", rate, "msg/s", allowed, 0.9, `allowed ${allowed}/s`),
        info(
          B,
          "429 answers from Slack",
          stats.rateLimited,
          "",
          `${(stats.rateLimited / total).toFixed(2)} per message`,
        ),
      ];
      for (const m of metrics) ctx.emit(m);
      return metrics;
    } finally {
      sockets.destroy();
      await stack.stop();
    }
  } finally {
    cleanup();
  }
}
