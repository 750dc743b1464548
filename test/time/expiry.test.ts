import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { SECRETS } from "../support/config.ts";
import { openReader } from "../support/db-reader.ts";
import { eventually, type Harness, REFUND, startHarness, tempDir } from "../support/harness.ts";
import {
  actionsOf,
  auditEvents,
  createPosted,
  finalAuditRows,
  MINUTE,
  rootMessage,
  sleep,
  verifyWebhook,
  visibleText,
} from "./helpers.ts";

const cleanups = useCleanups();

function temp(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

describe("expiry at ttl", () => {
  it("pending + ttl elapsed → expired, message updated, callback queued", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver();
    const id = await createPosted(h, { ...REFUND, callback_url: hook.url });
    const { store } = h.service.deps;

    // Escalate first so there is a DM to update as well.
    h.clock.advance(15 * MINUTE);
    expect((await h.service.sweepNow()).escalated).toBe(1);
    await h.settle();
    expect((await store.getRequest(id))?.dmTs).not.toBeNull();

    h.clock.advance(15 * MINUTE - 1);
    expect((await h.service.sweepNow()).expired).toBe(0);
    expect((await store.getRequest(id))?.status).toBe("pending");

    h.clock.advance(1);
    const expiredAt = h.clock.now();
    // Keep the callback worker from delivering before we look at the queue.
    hook.respond = () => 503;
    const report = await h.service.sweepNow();
    expect(report).toEqual({ expired: 1, escalated: 0, reminded: 0, failed: 0, more: false });

    const row = (await store.getRequest(id))!;
    expect(row.status).toBe("expired");
    expect(row.resolution).toBe("approval_timeout");
    expect(row.decidedAt).toBe(expiredAt);
    // Queued in the same transaction as the state change.
    const queued = await store.callbacksFor(id);
    expect(queued).toHaveLength(1);
    expect(JSON.parse(queued[0]!.body)).toMatchObject({
      type: "request.decided",
      data: { id, status: "expired", resolution: "approval_timeout" },
    });
    expect(await auditEvents(store, id)).toEqual(expect.arrayContaining(["expired", "callback_queued"]));

    const api = await h.api("GET", `/v1/requests/${id}`);
    expect(api.json).toMatchObject({
      status: "expired",
      resolution: "approval_timeout",
      decided_at: new Date(expiredAt).toISOString(),
    });

    // The worker tried meanwhile and got the 503 (recorded): it retries after its backoff, ≤ 6 s for a first attempt.
    await eventually(async () => (await auditEvents(store, id)).includes("callback_failed"));
    hook.respond = () => 200;
    h.clock.advance(6_000);
    await h.settle();
    for (const message of [rootMessage(h, "C0SUPPORT", row.slackTs), rootMessage(h, "D0MANAGER", row.dmTs)]) {
      expect(message?.updates).toBeGreaterThanOrEqual(1);
      expect(actionsOf(message)).toBeUndefined();
      expect(visibleText(message).toLowerCase()).toContain("expired — no decision within 30m");
    }
    const delivered = hook.deliveries.at(-1)!;
    expect(JSON.parse(delivered.body)).toMatchObject({
      type: "request.decided",
      data: { id, status: "expired" },
    });
    expect(() => verifyWebhook(SECRETS.support, delivered, h.clock.now())).not.toThrow();
  });

  it("expired + approve click → nothing changes, the clicker is told it expired", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    const { store } = h.service.deps;
    h.clock.advance(30 * MINUTE);
    expect((await h.service.sweepNow()).expired).toBe(1);
    await h.settle();
    const updatesBefore = rootMessage(h, "C0SUPPORT", (await store.getRequest(id))?.slackTs)?.updates;

    expect(await h.click("U0LEAD1", "approve", id)).toBe(200);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD1")[0]);
    expect(ephemeral.text.toLowerCase()).toContain("expired");
    await h.settle();

    const row = (await store.getRequest(id))!;
    expect(row.status).toBe("expired");
    expect(row.resolution).toBe("approval_timeout");
    expect(await store.decisionsFor(id)).toHaveLength(0);
    expect((await finalAuditRows(store, id)).map((a) => a.event)).toEqual(["expired"]);
    expect(await auditEvents(store, id)).toContain("late_click");
    expect(rootMessage(h, "C0SUPPORT", row.slackTs)?.updates).toBe(updatesBefore);
  });

  it("expired + swept again → expired once (one audit row, one callback)", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver();
    const id = await createPosted(h, { ...REFUND, callback_url: hook.url });
    h.clock.advance(31 * MINUTE);
    expect((await h.service.sweepNow()).expired).toBe(1);
    expect((await h.service.sweepNow()).expired).toBe(0);
    h.clock.advance(MINUTE);
    expect((await h.service.sweepNow()).expired).toBe(0);
    await h.settle();
    const { store } = h.service.deps;
    expect(await finalAuditRows(store, id)).toHaveLength(1);
    expect(await store.callbacksFor(id)).toHaveLength(1);
    expect(hook.deliveries).toHaveLength(1);
  });
});

describe("click vs expiry race", () => {
  /** After both ran: exactly one final status and exactly one final audit row, consistent with each other. */
  async function expectOneFinalState(h: Harness, id: string): Promise<string> {
    const { store } = h.service.deps;
    // The click is processed after Bolt acks it; wait until it left its trace.
    await eventually(async () =>
      (await auditEvents(store, id)).some((e) => e === "vote_approve" || e === "late_click"),
    );
    const row = (await store.getRequest(id))!;
    const finals = await finalAuditRows(store, id);
    expect(finals).toHaveLength(1);
    expect(finals[0]?.event).toBe(row.status);
    if (row.status === "approved") {
      expect(row.resolution).toBe("approved_by_humans");
      expect(await store.decisionsFor(id)).toHaveLength(1);
      expect(await auditEvents(store, id)).not.toContain("late_click");
    } else {
      expect(row.status).toBe("expired");
      expect(row.resolution).toBe("approval_timeout");
      expect(await store.decisionsFor(id)).toHaveLength(0);
      expect(await auditEvents(store, id)).toContain("late_click");
    }
    await h.settle();
    const message = rootMessage(h, "C0SUPPORT", row.slackTs);
    expect(actionsOf(message)).toBeUndefined();
    expect(visibleText(message).toLowerCase()).toContain(row.status === "approved" ? "approved" : "expired");
    return row.status;
  }

  it("ttl elapsed, sweep then approve click → expired; the click is late", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    h.clock.advance(30 * MINUTE + 1);
    const click = h.click("U0LEAD1", "approve", id);
    expect((await h.service.sweepNow()).expired).toBe(1);
    expect(await click).toBe(200);
    expect(await expectOneFinalState(h, id)).toBe("expired");
  });

  it("ttl elapsed, approve click before the sweep → expired (fail closed), late click, the sweep finds nothing", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    h.clock.advance(30 * MINUTE + 1);
    expect(await h.click("U0LEAD1", "approve", id)).toBe(200);
    await eventually(async () => (await auditEvents(h.service.deps.store, id)).includes("late_click"));
    const report = await h.service.sweepNow();
    expect(await expectOneFinalState(h, id)).toBe("expired");
    expect((await h.service.deps.store.getRequest(id))?.resolution).toBe("approval_timeout");
    expect(await auditEvents(h.service.deps.store, id)).not.toContain("vote_approve");
    expect(report.expired).toBe(0);
  });

  it("ttl elapsed, click and sweep interleaved at many points → always exactly one final state", async () => {
    const h = await cleanups.harness();
    // Delays (ms, real time) between sending the click and running the sweep; -1 = sweep first.
    const delays = [-1, 0, 0, 1, 1, 2, 3, 5, 8, 13, 20];
    for (const delay of delays) {
      const id = await createPosted(h);
      h.clock.advance(31 * MINUTE);
      if (delay < 0) await h.service.sweepNow();
      const click = h.click("U0LEAD1", "approve", id);
      if (delay === 0) await new Promise((r) => setImmediate(r));
      else if (delay > 0) await sleep(delay);
      if (delay >= 0) await h.service.sweepNow();
      await click;
      await expectOneFinalState(h, id);
    }
  });
});

describe("sweep at start-up", () => {
  it("pending + downtime past ttl + restart → expired without a manual sweep", async () => {
    const dir = temp();
    const dbPath = join(dir, "countersign.db");
    const slack = await cleanups.fakeSlack();
    const clock = new FakeClock();
    const first = await startHarness({ dbPath, slack, clock });
    const a = await createPosted(first);
    const b = await createPosted(first);
    clock.advance(20 * MINUTE);
    const c = await createPosted(first); // expires at 50m
    await first.settle();
    await first.stop();

    clock.advance(11 * MINUTE); // 31m after a and b were created
    const second = await cleanups.harness({ dbPath, slack, clock });
    const { store } = second.service.deps;
    expect((await store.getRequest(a))?.status).toBe("expired");
    expect((await store.getRequest(b))?.status).toBe("expired");
    expect((await store.getRequest(a))?.resolution).toBe("approval_timeout");
    expect((await store.getRequest(c))?.status).toBe("pending");
    await second.settle();
    for (const id of [a, b]) {
      const message = rootMessage(second, "C0SUPPORT", (await store.getRequest(id))?.slackTs);
      expect(actionsOf(message)).toBeUndefined();
      expect(visibleText(message).toLowerCase()).toContain("expired");
    }
    expect(actionsOf(rootMessage(second, "C0SUPPORT", (await store.getRequest(c))?.slackTs))).toBeDefined();
  });
});

describe("one bad row does not block the rest", () => {
  it("three due rows, one with corrupt evidence → the other two expire, report.failed = 1, the bad one is retried next sweep", async () => {
    const dir = temp();
    const dbPath = join(dir, "countersign.db");
    const h = await cleanups.harness({ dbPath });
    const hook = await cleanups.receiver();
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push(await createPosted(h, { ...REFUND, callback_url: hook.url }));
    await h.settle();
    const [good1, bad, good2] = ids as [string, string, string];

    const raw = await openReader(dbPath, { writable: true });
    cleanups.push(() => raw.close());
    expect(await raw.run("UPDATE requests SET evidence = ? WHERE id = ?", ["{not json", bad])).toBe(1);

    h.clock.advance(31 * MINUTE);
    const report = await h.service.sweepNow();
    expect(report.expired).toBe(2);
    expect(report.failed).toBe(1);
    // A request past its ttl is never escalated or reminded, even when its expiry failed.
    expect(report.escalated).toBe(0);
    expect(report.reminded).toBe(0);

    const { store } = h.service.deps;
    expect((await store.getRequest(good1))?.status).toBe("expired");
    expect((await store.getRequest(good2))?.status).toBe("expired");
    const badRow = (await store.getRequest(bad))!;
    expect(badRow.status).toBe("pending");
    expect(badRow.escalatedAt).toBeNull();
    expect(await store.callbacksFor(bad)).toHaveLength(0);
    expect(await finalAuditRows(store, bad)).toHaveLength(0);
    expect(h.logs.join("")).toContain(bad);

    // Not forgotten: the next sweep tries it again; once repaired, it expires.
    expect(await h.service.sweepNow()).toMatchObject({ expired: 0, failed: 1 });
    expect(await raw.run("UPDATE requests SET evidence = ? WHERE id = ?", ["[]", bad])).toBe(1);
    expect(await h.service.sweepNow()).toMatchObject({ expired: 1, failed: 0 });
    expect((await store.getRequest(bad))?.status).toBe("expired");
  });
});
