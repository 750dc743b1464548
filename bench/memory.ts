/**
 * 5. Memory: resident set size of the service process with 100k pending
 * requests in its database, after start-up and a few requests of each kind.
 */
import { join } from "node:path";
import { approveClick, seedClickable } from "./click.ts";
import { rssOf } from "./lib/child.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { AGENT_TOKEN, REFUND, SUPPORT_CHANNEL, SUPPORT_CONFIG } from "./lib/fixtures.ts";
import { newAgent, send } from "./lib/http.ts";
import { atMost, info, type Metric } from "./lib/report.ts";
import { startCountersign, startFakeSlackChild } from "./lib/stack.ts";
import { sleep } from "./lib/stats.ts";

const B = "memory";

export async function memoryBench(ctx: BenchContext): Promise<Metric[]> {
  const pending = pick(ctx.size, { tiny: 1_000, quick: 100_000, full: 100_000 });
  const { dir, cleanup } = workDir(B);
  try {
    const slack = await startFakeSlackChild(B, dir);
    ctx.say(`seeding ${pending.toLocaleString("en-US")} pending requests`);
    const db = await seedClickable(join(dir, "cs.db"), pending, 10, (count) =>
      slack.call<string[]>("prepost", { channel: SUPPORT_CHANNEL, count }),
    );
    const stack = await startCountersign(ctx, B, dir, slack, {
      configYaml: SUPPORT_CONFIG,
      dbPath: db.dbPath,
    });
    const sockets = newAgent();
    try {
      const startup = rssOf(stack.service.pid);
      const auth = { authorization: `Bearer ${AGENT_TOKEN}` };
      const created: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await send(`${stack.url}/v1/requests`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify(REFUND),
          agent: sockets,
        });
        created.push((JSON.parse(res.body) as { id: string }).id);
      }
      for (const id of [...created, ...db.ids])
        await send(`${stack.url}/v1/requests/${id}`, { headers: auth, agent: sockets });
      for (const id of db.ids.slice(0, 5)) {
        await send(`${stack.url}/slack/events`, { method: "POST", ...approveClick(db, id), agent: sockets });
      }
      await send(`${stack.url}/metrics`, { agent: sockets });
      await send(`${stack.url}/healthz`, { agent: sockets });
      await sleep(2_000); // the outbox posts and updates
      const after = rssOf(stack.service.pid);
      const heap = await stack.service.call<NodeJS.MemoryUsage>("memory");
      const metrics = [
        info(B, "RSS right after start-up", startup.rssMb, "MB"),
        atMost(B, `RSS with ${pending / 1000}k pending, after requests`, after.rssMb, "MB", 200),
        info(B, "peak RSS (VmHWM)", after.peakMb, "MB"),
        info(B, "V8 heap used", heap.heapUsed / 2 ** 20, "MB"),
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
