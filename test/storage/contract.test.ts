import { afterEach, describe, expect, it } from "vitest";
import { finalState } from "../../src/domain/transitions.ts";
import { openStorage } from "../../src/storage/open.ts";
import type { Backend } from "../../src/storage/ports.ts";
import { freshPostgresUrl, onPostgres } from "../support/postgres.ts";
import { approve, claimSlack, request } from "../support/store-fixtures.ts";

/**
 * The store contract: what every adapter behind storage/ports.ts must do,
 * run on the database of the current project (SQLite, then PostgreSQL), the
 * store opened through storage/open.ts as the service opens it. Cases about
 * several replicas or one dialect's machinery stay in pg-store.test.ts and
 * sqlite-group-commit.test.ts.
 */

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const opened: Backend[] = [];
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});

async function openStore(): Promise<Backend> {
  const backend = await openStorage(
    onPostgres ? { postgresUrl: await freshPostgresUrl(), connectTimeoutMs: 5_000, poolSize: 5 } : ":memory:",
    { log: quiet, writes: { budgetMs: 2_000 } },
  );
  opened.push(backend);
  return backend;
}

describe(`store contract (${onPostgres ? "PostgreSQL" : "SQLite"})`, () => {
  it("round-trips rows with numbers for times and ids, like SQLite", async () => {
    const a = await openStore();
    const { store } = a;
    await store.insertRequest(request("r1", { idempotencyKey: "k1", createdAt: 1_700_000_000_123 }));
    const row = await store.getRequest("r1");
    expect(row?.createdAt).toBe(1_700_000_000_123);
    expect(row?.approvalsRequired).toBe(1);
    expect((await store.findByIdempotencyKey("agent-1", "k1"))?.id).toBe("r1");
    expect(await store.findByIdempotencyKey("agent-1", "other")).toBeUndefined();
    await store.insertDecision({
      requestId: "r1",
      approverId: "U1",
      approverName: null,
      decision: "approve",
      comment: null,
      at: 5,
      argsHash: "h",
    });
    const [vote] = await store.decisionsFor("r1");
    expect(vote?.id).toBeTypeOf("number");
    await store.changeVote(vote?.id ?? 0, "reject", "no", 6, "h2");
    expect(await store.decisionsFor("r1")).toMatchObject([{ decision: "reject", comment: "no", at: 6 }]);
    expect(await store.countByStatus()).toEqual([{ status: "pending", resolution: null, n: 1 }]);
    await store.setRevisedBy("r1", "r2");
    await store.setThreadTs("r1", "111.1");
    await store.setChannelMessage("r1", "C9", "222.2");
    await store.setDmMessage("r1", "D1", "333.3");
    expect(await store.getRequest("r1")).toMatchObject({
      revisedBy: "r2",
      slackThreadTs: "111.1",
      slackChannel: "C9",
      slackTs: "222.2",
      dmChannel: "D1",
      dmTs: "333.3",
    });
    await store.enqueueSlack("r1", "post", { text: "hi" }, 7);
    const [item] = await claimSlack(store, 7, 0, 10);
    await store.retrySlack(item?.id ?? 0, 99, "ratelimited");
    expect(await claimSlack(store, 98, 10, 10)).toEqual([]);
    expect(await claimSlack(store, 99, 10, 10)).toMatchObject([
      { attempts: 1, lastError: "ratelimited", payload: '{"text":"hi"}', channel: "C9" },
    ]);
  });

  it("pending + finalize → true once, then false; conditional updates report whether a row changed", async () => {
    const { store } = await openStore();
    await store.insertRequest(request("r1", { escalateAt: 10, remindAt: 10 }));
    expect(await store.setEdit("r1", "{}", "h2", "U1")).toBe(true);
    expect(await store.clearReminder("r1")).toBe(true);
    expect(await store.clearReminder("r1")).toBe(false);
    expect(await store.markEscalated("r1", 11, "U9")).toBe(true);
    expect(await store.skipEscalation("r1")).toBe(false);
    expect(await store.setOutcome("r1", "done")).toBe(false);
    expect(await store.finalize(approve("r1", 20))).toBe(true);
    expect(
      await store.finalize({
        id: "r1",
        ...finalState("rejected_by_human"),
        decidedAt: 21,
        approvalToken: null,
      }),
    ).toBe(false);
    expect(await store.setEdit("r1", "{}", "h3", "U2")).toBe(false);
    expect(await store.setOutcome("r1", "done")).toBe(true);
    expect(await store.setOutcome("r1", "again")).toBe(false);
    expect(await store.getRequest("r1")).toMatchObject({
      status: "approved",
      decidedAt: 20,
      outcome: "done",
    });
  });

  it("sweep queries read due pending requests in due order, up to the limit", async () => {
    const { store } = await openStore();
    await store.insertRequest(request("late", { expiresAt: 30, remindAt: 5, createdAt: 1 }));
    await store.insertRequest(request("early", { expiresAt: 20, escalateAt: 7, createdAt: 2 }));
    await store.insertRequest(request("future", { expiresAt: 999, createdAt: 3 }));
    await store.insertRequest(
      request("done", { expiresAt: 1, status: "approved", resolution: "approved_by_humans" }),
    );
    expect(await store.dueExpiries(100, 10)).toEqual(["early", "late"]);
    expect(await store.dueExpiries(100, 1)).toEqual(["early"]);
    expect(await store.dueEscalations(100, 10)).toEqual(["early"]);
    expect(await store.dueReminders(100, 10)).toEqual(["late"]);
    expect(await store.approvedWithoutToken(10)).toMatchObject([{ id: "done" }]);
    expect(await store.setApprovalToken("done", "t")).toBe(true);
    expect(await store.setApprovalToken("done", "t2")).toBe(false);
    expect((await store.pendingFor(["finance"], "U1", 10)).map((r) => r.id)).toEqual([
      "late",
      "early",
      "future",
    ]);
    expect(await store.pendingFor([], "U1", 10)).toEqual([]);
  });

  it("lists an agent's requests newest first by (created_at, id) and counts its history", async () => {
    const { store } = await openStore();
    for (const [id, at, status] of [
      ["a", 1, "pending"],
      ["b", 2, "approved"],
      ["c", 2, "pending"],
      ["d", 3, "rejected"],
    ] as const) {
      await store.insertRequest(request(id, { createdAt: at, status }));
    }
    const page = (status: string | null, beforeAt: number, beforeId: string) =>
      store
        .listForAgent({ agent: "agent-1", status, beforeAt, beforeId, limit: 2 })
        .then((r) => r.map((x) => x.id));
    expect(await page(null, 99, "")).toEqual(["d", "c"]);
    expect(await page(null, 2, "c")).toEqual(["b", "a"]);
    expect(await page("pending", 99, "")).toEqual(["c", "a"]);
    expect(await page("approved", 99, "")).toEqual(["b"]);
    const history = await store.historyFor({
      agent: "agent-1",
      action: "refund",
      since: 1,
      until: 3,
      id: "a",
    });
    expect(history.sort((x, y) => x.status.localeCompare(y.status))).toEqual([
      { status: "approved", n: 1 },
      { status: "pending", n: 1 },
      { status: "rejected", n: 1 },
    ]);
  });

  it("a throw in tx rolls everything back; a nested tx that throws rolls back only its savepoint", async () => {
    const { store } = await openStore();
    await expect(
      store.tx(async () => {
        await store.insertRequest(request("gone"));
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await store.getRequest("gone")).toBeUndefined();
    await store.tx(async () => {
      await store.insertRequest(request("kept"));
      await store
        .tx(async () => {
          await store.insertRequest(request("inner"));
          await store.audit("inner", 1, "created", null, { a: 1 });
          throw new Error("inner");
        })
        .catch(() => undefined);
      await store.audit("kept", 2, "created", null);
    });
    expect(await store.getRequest("kept")).toBeDefined();
    expect(await store.getRequest("inner")).toBeUndefined();
    expect((await store.auditFor("kept")).map((r) => r.event)).toEqual(["created"]);
    expect(await store.auditFor("inner")).toEqual([]);
  });

  it("audit iterate pages past 1000 rows and starts at sinceMs", async () => {
    const a = await openStore();
    await a.store.tx(async () => {
      for (let i = 0; i < 1_205; i += 1) await a.store.audit(null, i, "created", null);
    });
    const seqs: number[] = [];
    for await (const row of a.audit.iterate()) seqs.push(row.seq);
    expect(seqs).toHaveLength(1_205);
    expect(seqs.every((s, i) => s === i + 1)).toBe(true);
    const since: number[] = [];
    for await (const row of a.audit.iterate({ sinceMs: 1_200 })) since.push(row.at);
    expect(since).toEqual([1_200, 1_201, 1_202, 1_203, 1_204]);
    const none: unknown[] = [];
    for await (const row of a.audit.iterate({ sinceMs: 10_000 })) none.push(row);
    expect(none).toEqual([]);
  });

  it("loadRequest → the row and its votes in cast order, as getRequest and decisionsFor read them", async () => {
    const { store } = await openStore();
    expect(await store.loadRequest("r1")).toBeUndefined();
    await store.insertRequest(request("r1"));
    expect(await store.loadRequest("r1")).toEqual({ row: await store.getRequest("r1"), decisions: [] });
    for (const [approverId, at] of [
      ["U2", 5],
      ["U1", 6],
    ] as const) {
      await store.insertDecision({
        requestId: "r1",
        approverId,
        approverName: null,
        decision: "approve",
        comment: null,
        at,
        argsHash: "h",
      });
    }
    const loaded = await store.loadRequest("r1");
    expect(loaded?.decisions.map((d) => d.approverId)).toEqual(["U2", "U1"]);
    expect(loaded).toEqual({ row: await store.getRequest("r1"), decisions: await store.decisionsFor("r1") });
    // Inside a transaction too (PostgreSQL locks the row there, as getRequest does).
    expect(await store.tx(() => store.loadRequest("r1"))).toEqual(loaded);
  });
});
