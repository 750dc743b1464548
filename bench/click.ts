/**
 * 2. Click to ack: signed block_actions Approve clicks, each on a different
 * pending request, 100 concurrent, with 100k pending requests in the
 * database; the HTTP ack latency as Slack would see it.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { toResource } from "../src/approvals/resource.ts";
import {
  blockActionsPayload,
  encodeInteraction,
  signSlackRequest,
} from "../src/fake-slack/slack-requests.ts";
import { renderRequestMessage } from "../src/slack/render/index.ts";
import { openDatabase } from "../src/storage/sqlite/open.ts";
import { createStore } from "../src/storage/sqlite/store.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import {
  APPROVER,
  pendingRow,
  range,
  SIGNING_SECRET,
  SUPPORT_CHANNEL,
  SUPPORT_CONFIG,
  seedId,
  seedRows,
} from "./lib/fixtures.ts";
import { paced } from "./lib/http.ts";
import { load } from "./lib/load.ts";
import { atMost, check, info, type Metric } from "./lib/report.ts";
import { startCountersign, startFakeSlackChild } from "./lib/stack.ts";
import { percentile, sleep } from "./lib/stats.ts";

const B = "click";
const CONCURRENT = 100;
/** Clicks per second sent at even intervals: the ack latency of the work itself, not of a queue. */
const EVEN_RATE = 200;

/** What the seeding of a clickable database returns. */
export interface ClickableDb {
  dbPath: string;
  /** The request ids that have a real message in the fake Slack, in order. */
  ids: string[];
  /** Their message ts, by id. */
  ts: Map<string, string>;
  /** The message blocks Slack echoes back in a click payload. */
  message: { text: string; blocks: unknown[] };
}

/**
 * Seeds `pending` pending support-lead requests into a migrated database file.
 * The first `clickable` of them get a real message in the fake Slack, so the
 * chat.update after a decision succeeds as it would in production.
 */
export async function seedClickable(
  dbPath: string,
  pending: number,
  clickable: number,
  prepost: (count: number) => Promise<string[]>,
): Promise<ClickableDb> {
  const stamps = await prepost(clickable);
  const now = Date.now();
  const database = openDatabase(dbPath);
  try {
    seedRows(
      database.sqlite,
      range(pending, (i) => ({
        ...pendingRow(i, now),
        ...(i < clickable ? { slack_ts: stamps[i] ?? null } : {}),
      })),
    );
    const row = await createStore(database).getRequest(seedId(0));
    if (!row) throw new Error("seeded row missing");
    const message = renderRequestMessage(toResource(row, []), {
      redactKeys: [],
      needsConfirm: false,
      escalatedTo: null,
      ttlText: "30m",
      nowMs: now,
    });
    const ids = Array.from({ length: clickable }, (_, i) => seedId(i));
    return { dbPath, ids, ts: new Map(ids.map((id, i) => [id, stamps[i] ?? ""])), message };
  } finally {
    database.sqlite.close();
  }
}

/** A signed Approve click on `id`, as Slack would POST it to /slack/events. */
export function approveClick(db: ClickableDb, id: string): { body: string; headers: Record<string, string> } {
  const body = encodeInteraction(
    blockActionsPayload({
      user: { id: APPROVER, username: "lead.one" },
      actionId: "approve",
      value: id,
      channelId: SUPPORT_CHANNEL,
      messageTs: db.ts.get(id) ?? "",
      message: db.message,
    }),
  );
  return {
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
      ...signSlackRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000)),
    },
  };
}

export async function clickBench(ctx: BenchContext): Promise<Metric[]> {
  const pending = pick(ctx.size, { tiny: 2_000, quick: 100_000, full: 100_000 });
  const warmup = pick(ctx.size, { tiny: 200, quick: 1_000, full: 2_000 });
  const clicks = pick(ctx.size, { tiny: 200, quick: 5_000, full: 20_000 });
  const evenS = pick(ctx.size, { tiny: 0.5, quick: 3, full: 5 });
  const { dir, cleanup } = workDir(B);
  try {
    const slack = await startFakeSlackChild(B, dir);
    ctx.say(`seeding ${pending.toLocaleString("en-US")} pending requests`);
    // A margin: autocannon builds a request or two per connection that it never sends.
    const clickable = warmup + clicks + 2 * CONCURRENT + EVEN_RATE * evenS;
    const db = await seedClickable(join(dir, "cs.db"), pending, clickable, (count) =>
      slack.call<string[]>("prepost", { channel: SUPPORT_CHANNEL, count }),
    );
    const stack = await startCountersign(ctx, B, dir, slack, {
      configYaml: SUPPORT_CONFIG,
      dbPath: db.dbPath,
    });
    let next = 0;
    try {
      ctx.say(`${warmup} warm-up clicks, then ${clicks} measured, ${CONCURRENT} concurrent`);
      const cpuBefore = await stack.service.call<NodeJS.CpuUsage>("cpu");
      const result = await load(
        {
          url: `${stack.url}/slack/events`,
          method: "POST",
          connections: CONCURRENT,
          amount: clicks,
          requests: [
            {
              setupRequest: (request) => {
                const id = db.ids[next++];
                if (id === undefined) throw new Error("ran out of clickable requests");
                return { ...request, ...approveClick(db, id) };
              },
            },
          ],
        },
        { responses: warmup },
      );
      const cpuAfter = await stack.service.call<NodeJS.CpuUsage>("cpu");
      const answered = Object.values(result.statuses).reduce((a, b) => a + b, 0);
      // Steadier than clicks/s on a shared machine; chat.update calls of the outbox included.
      const cpuPerClick =
        (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / Math.max(1, answered);
      const even = await paced(EVEN_RATE, evenS, () => {
        const id = db.ids[next++];
        if (id === undefined) throw new Error("ran out of clickable requests");
        return { url: `${stack.url}/slack/events`, method: "POST", ...approveClick(db, id) };
      });
      // Let the decisions' chat.update calls drain before counting.
      for (let i = 0; i < 100 && (await stack.service.call<number>("outboxDepth")) > 0; i++) await sleep(200);
      const updates = (await stack.slackStats()).updates;
      const recorded = countDecisions(db.dbPath);
      const sent = (result.statuses["200"] ?? 0) + even.latencies.length;
      const metrics = [
        info(
          B,
          `ack p50 (${CONCURRENT} concurrent, ${pending / 1000}k pending)`,
          percentile(result.latencies, 50),
          "ms",
        ),
        atMost(
          B,
          `ack p99 (${CONCURRENT} concurrent, ${pending / 1000}k pending)`,
          percentile(result.latencies, 99),
          "ms",
          50,
        ),
        info(B, "clicks acked per second", result.rps, "clicks/s"),
        info(B, "CPU per click", cpuPerClick, "µs", "warm-up and the outbox's chat.update calls included"),
        info(B, `ack p99 at an even ${EVEN_RATE} clicks/s`, percentile(even.latencies, 99), "ms"),
        check(
          B,
          "every click acked 200 and recorded once",
          result.failed + even.failed === 0 && recorded.decisions === sent && recorded.approved === sent,
          `${JSON.stringify(result.statuses)}; ${recorded.decisions}/${sent} decisions, ${recorded.approved} approved, ${updates} messages updated`,
        ),
      ];
      for (const m of metrics) ctx.emit(m);
      return metrics;
    } finally {
      await stack.stop();
    }
  } finally {
    cleanup();
  }
}

function countDecisions(dbPath: string): { decisions: number; approved: number } {
  const sqlite = new Database(dbPath, { readonly: true });
  try {
    const decisions = (sqlite.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number }).n;
    const approved = (
      sqlite.prepare("SELECT count(*) AS n FROM requests WHERE status = 'approved'").get() as { n: number }
    ).n;
    return { decisions, approved };
  } finally {
    sqlite.close();
  }
}
