/**
 * GET /v1/requests: one page of an agent's requests (newest first, by cursor),
 * in-process on the store, over 1M stored requests of 10 agents. Baseline in the
 * same run: fetching the same 20 requests one by one, as GET /v1/requests/:id
 * does. A page deep in the history (cursor in the middle) and a page filtered by
 * status (even one that matches nothing) should cost about what the first page
 * costs: the (agent, [status,] created_at, id) indexes are walked from the cursor,
 * never scanned from the newest row.
 */
import { join } from "node:path";
import { getRequest } from "../src/approvals/get-request.ts";
import { encodeCursor, listRequests } from "../src/approvals/list-requests.ts";
import { openDatabase } from "../src/storage/sqlite/open.ts";
import { createStore } from "../src/storage/sqlite/store.ts";
import { type BenchContext, pick, workDir } from "./lib/context.ts";
import { pendingRow, range, seedId, seedRows } from "./lib/fixtures.ts";
import { info, type Metric, ratioAtLeast } from "./lib/report.ts";
import { median, timesMsAsync } from "./lib/stats.ts";

const B = "list";
const AGENTS = 10;
const PAGE = 20;
const REPEAT = 200;
const times = <T>(n: number, fn: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => fn(i));

export async function listBench(ctx: BenchContext): Promise<Metric[]> {
  const stored = pick(ctx.size, { tiny: 20_000, quick: 200_000, full: 1_000_000 });
  const metrics: Metric[] = [];
  const emit = (m: Metric) => {
    metrics.push(m);
    ctx.emit(m);
  };
  const { dir, cleanup } = workDir(B);
  try {
    const database = openDatabase(join(dir, "list.db"));
    const base = Date.now() - stored;
    ctx.say(`seeding ${stored.toLocaleString("en-US")} stored requests of ${AGENTS} agents`);
    seedRows(
      database.sqlite,
      range(stored, (i) => {
        const row = { ...pendingRow(i, base + i), agent: `bench-bot-${i % AGENTS}` };
        // Every agent has both: alternate rows of each agent are decided.
        return Math.floor(i / AGENTS) % 2 === 0
          ? row
          : { ...row, status: "approved", resolution: "approved_by_humans" };
      }),
    );
    database.sqlite.pragma("optimize");
    const deps = { store: createStore(database) };
    const agent = "bench-bot-0";
    const newest = stored - AGENTS; // agent 0's newest row
    const middle = Math.floor(stored / 2 / AGENTS) * AGENTS;

    // Baseline: the 20 newest of agent 0, one GET each.
    const ids = times(PAGE, (k) => seedId(newest - k * AGENTS));
    const byId = median(
      await timesMsAsync(REPEAT, async () => {
        for (const id of ids)
          if ((await getRequest(deps, agent, id)).kind !== "found") throw new Error("missing");
      }),
    );
    emit(info(B, `baseline: ${PAGE} × GET /v1/requests/:id`, byId, "ms", `median of ${REPEAT}`));

    const pages: [string, () => Promise<unknown>][] = [
      ["first page", () => listRequests(deps, agent, { limit: PAGE })],
      [
        "a page from the middle (cursor)",
        () => listRequests(deps, agent, { limit: PAGE, cursor: { at: base + middle, id: seedId(middle) } }),
      ],
      ["first page, status=approved", () => listRequests(deps, agent, { limit: PAGE, status: "approved" })],
      ["first page, status=pending", () => listRequests(deps, agent, { limit: PAGE, status: "pending" })],
    ];
    const check = await listRequests(deps, agent, { limit: PAGE });
    if (check.data.length !== PAGE || check.data[0]?.id !== ids[0])
      throw new Error("list returned the wrong page");
    if (check.next_cursor !== encodeCursor(base + newest - (PAGE - 1) * AGENTS, ids[PAGE - 1]!))
      throw new Error("unexpected next_cursor");
    for (const [name, run] of pages) {
      const ms = median(await timesMsAsync(REPEAT, run));
      // Throughput ratio: pages per second over 20-GET batches per second.
      emit(
        ratioAtLeast(
          B,
          `${name}: ${stored.toLocaleString("en-US")} stored`,
          1 / ms,
          "pages/ms",
          1 / byId,
          0.5,
          `${PAGE} GETs`,
        ),
      );
    }
    // A status no row has: nothing stops the walk but the end of the agent's history.
    const none = median(
      await timesMsAsync(20, () => listRequests(deps, agent, { limit: PAGE, status: "cancelled" })),
    );
    emit(
      info(
        B,
        `status=cancelled, none stored: ${stored.toLocaleString("en-US")} stored`,
        none,
        "ms",
        "walks the agent's history; only pending has its own index",
      ),
    );
    database.sqlite.close();
  } finally {
    cleanup();
  }
  return metrics;
}
