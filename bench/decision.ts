/**
 * 3. Decision to agent: an agent long-polls GET /v1/requests/:id?wait=30,
 * an approver clicks Approve; how long after Slack got its ack does the
 * agent get its answer.
 */
import { join } from "node:path";
import { approveClick, seedClickable } from "./click.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { AGENT_TOKEN, SUPPORT_CHANNEL, SUPPORT_CONFIG } from "./lib/fixtures.ts";
import { newAgent, send } from "./lib/http.ts";
import { atMost, check, info, type Metric } from "./lib/report.ts";
import { startCountersign, startFakeSlackChild } from "./lib/stack.ts";
import { percentile, sleep } from "./lib/stats.ts";

const B = "decision";

export async function decisionBench(ctx: BenchContext): Promise<Metric[]> {
  const samples = pick(ctx.size, { tiny: 5, quick: 60, full: 300 });
  const warmup = pick(ctx.size, { tiny: 2, quick: 10, full: 20 });
  const pending = pick(ctx.size, { tiny: 1_000, quick: 10_000, full: 100_000 });
  const { dir, cleanup } = workDir(B);
  try {
    const slack = await startFakeSlackChild(B, dir);
    ctx.say(`seeding ${pending.toLocaleString("en-US")} pending requests; ${samples} sequential decisions`);
    const db = await seedClickable(join(dir, "cs.db"), pending, warmup + samples, (count) =>
      slack.call<string[]>("prepost", { channel: SUPPORT_CHANNEL, count }),
    );
    const stack = await startCountersign(ctx, B, dir, slack, {
      configYaml: SUPPORT_CONFIG,
      dbPath: db.dbPath,
    });
    const agentSockets = newAgent();
    const slackSockets = newAgent();
    const afterAck: number[] = [];
    const afterClick: number[] = [];
    let wrong = 0;
    try {
      for (const [i, id] of db.ids.entries()) {
        const poll = send(`${stack.url}/v1/requests/${id}?wait=30`, {
          headers: { authorization: `Bearer ${AGENT_TOKEN}` },
          agent: agentSockets,
        });
        // The long-poll has to be parked on the server before the click.
        await sleep(15);
        const click = approveClick(db, id);
        const clickedAt = performance.now();
        const ack = await send(`${stack.url}/slack/events`, {
          method: "POST",
          ...click,
          agent: slackSockets,
        });
        const answer = await poll;
        const status = (JSON.parse(answer.body) as { status?: string }).status;
        if (ack.status !== 200 || answer.status !== 200 || status !== "approved") wrong += 1;
        if (i < warmup) continue;
        afterAck.push(answer.at - ack.at);
        afterClick.push(answer.at - clickedAt);
      }
    } finally {
      agentSockets.destroy();
      slackSockets.destroy();
      await stack.stop();
    }
    const metrics = [
      atMost(B, "ack → long-poll answer, median", percentile(afterAck, 50), "ms", 20),
      info(B, "ack → long-poll answer, p99", percentile(afterAck, 99), "ms"),
      info(B, "click sent → long-poll answer, median", percentile(afterClick, 50), "ms"),
      check(
        B,
        "every long-poll answered approved",
        wrong === 0,
        `${samples + warmup - wrong}/${samples + warmup}`,
      ),
    ];
    for (const m of metrics) ctx.emit(m);
    return metrics;
  } finally {
    cleanup();
  }
}
