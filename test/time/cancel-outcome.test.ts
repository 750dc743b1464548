import { afterEach, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { eventually, type Harness, REFUND, startHarness } from "../support/harness.ts";
import {
  actionsOf,
  auditEvents,
  createPosted,
  finalAuditRows,
  MINUTE,
  type Receiver,
  rootMessage,
  startReceiver,
  visibleText,
} from "./helpers.ts";

let h: Harness | undefined;
let hook: Receiver | undefined;
afterEach(async () => {
  await h?.stop();
  await hook?.close();
  h = undefined;
  hook = undefined;
});

async function approved(harness: Harness, body: Record<string, unknown> = REFUND): Promise<string> {
  const id = await createPosted(harness, body);
  await harness.click("U0LEAD1", "approve", id);
  await eventually(async () => (await harness.service.deps.store.getRequest(id))?.status === "approved");
  return id;
}

describe("cancel", () => {
  it("pending + cancel → cancelled/cancelled_by_agent, message updated, callback queued", async () => {
    h = await startHarness();
    hook = await startReceiver();
    const id = await createPosted(h, { ...REFUND, callback_url: hook.url });
    const res = await h.api("POST", `/v1/requests/${id}/cancel`, { reason: "customer withdrew" });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id, status: "cancelled", resolution: "cancelled_by_agent" });
    expect(res.json.decided_at).toBe(new Date(h.clock.now()).toISOString());

    const { store } = h.service.deps;
    expect((await finalAuditRows(store, id)).map((a) => [a.event, a.actor])).toEqual([
      ["cancelled", "agent:support-bot"],
    ]);
    expect(JSON.parse((await finalAuditRows(store, id))[0]!.detail!)).toMatchObject({
      reason: "customer withdrew",
    });
    await h.settle();
    const message = rootMessage(h, "C0SUPPORT", (await store.getRequest(id))?.slackTs);
    expect(message?.updates).toBeGreaterThanOrEqual(1);
    expect(actionsOf(message)).toBeUndefined();
    expect(visibleText(message).toLowerCase()).toContain("cancelled");
    expect(JSON.parse(hook.deliveries[0]!.body)).toMatchObject({
      type: "request.decided",
      data: { id, status: "cancelled", resolution: "cancelled_by_agent" },
    });
  });

  it("escalated + cancel → channel message and manager DM both updated, buttons gone", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    h.clock.advance(15 * MINUTE);
    await h.service.sweepNow();
    await h.settle();
    expect((await h.api("POST", `/v1/requests/${id}/cancel`, {})).status).toBe(200);
    await h.settle();
    const row = (await h.service.deps.store.getRequest(id))!;
    for (const message of [rootMessage(h, "C0SUPPORT", row.slackTs), rootMessage(h, "D0MANAGER", row.dmTs)]) {
      expect(message).toBeDefined();
      expect(actionsOf(message)).toBeUndefined();
      expect(visibleText(message).toLowerCase()).toContain("cancelled");
    }
    // The manager's click on the cancelled DM changes nothing.
    await h.click("U0MANAGER", "approve", id, { channel: row.dmChannel!, ts: row.dmTs! });
    await eventually(async () => (await auditEvents(h!.service.deps.store, id)).includes("late_click"));
    expect((await h.service.deps.store.getRequest(id))?.status).toBe("cancelled");
  });

  it("pending + cancel with no body → cancelled", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    const res = await h.api("POST", `/v1/requests/${id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("cancelled");
  });

  it("cancelled + cancel again → 409 conflict, nothing changes", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    expect((await h.api("POST", `/v1/requests/${id}/cancel`, {})).status).toBe(200);
    const again = await h.api("POST", `/v1/requests/${id}/cancel`, {});
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("conflict");
    expect(await finalAuditRows(h.service.deps.store, id)).toHaveLength(1);
  });

  it.each([
    ["approved", async (harness: Harness) => approved(harness)],
    [
      "expired",
      async (harness: Harness) => {
        const id = await createPosted(harness);
        harness.clock.advance(30 * MINUTE);
        await harness.service.sweepNow();
        return id;
      },
    ],
    [
      "rejected",
      async (harness: Harness) => {
        const res = await harness.create({ action: "db.drop_table", summary: "Drop it", params: {} });
        return res.json.id as string;
      },
    ],
  ])("%s + cancel → 409 conflict naming the status, status unchanged", async (status, make) => {
    h = await startHarness();
    const id = await make(h);
    expect((await h.service.deps.store.getRequest(id))?.status).toBe(status);
    const res = await h.api("POST", `/v1/requests/${id}/cancel`, {});
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe("conflict");
    expect(res.json.error.message).toContain(status);
    expect((await h.service.deps.store.getRequest(id))?.status).toBe(status);
    expect(await auditEvents(h.service.deps.store, id)).not.toContain("cancelled");
  });

  it("another agent's request + cancel → 404, still pending", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    const res = await h.api("POST", `/v1/requests/${id}/cancel`, {}, { token: TOKENS.deploy });
    expect(res.status).toBe(404);
    expect((await h.service.deps.store.getRequest(id))?.status).toBe("pending");
  });

  it("cancelled + ttl elapsed + sweep → still cancelled, no expiry", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    await h.api("POST", `/v1/requests/${id}/cancel`, {});
    h.clock.advance(31 * MINUTE);
    expect(await h.service.sweepNow()).toEqual({
      expired: 0,
      escalated: 0,
      reminded: 0,
      failed: 0,
      more: false,
    });
    expect((await h.service.deps.store.getRequest(id))?.status).toBe("cancelled");
  });
});

describe("outcome", () => {
  it("approved + outcome succeeded → stored, audited, shown as Executed on the message", async () => {
    h = await startHarness();
    const id = await approved(h);
    h.clock.advance(MINUTE);
    const res = await h.api("POST", `/v1/requests/${id}/outcome`, {
      status: "succeeded",
      detail: "refund re_123 issued",
    });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("approved");
    expect(res.json.outcome).toEqual({
      status: "succeeded",
      detail: "refund re_123 issued",
      at: new Date(h.clock.now()).toISOString(),
    });
    const { store } = h.service.deps;
    const audit = (await store.auditFor(id)).filter((a) => a.event === "outcome");
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor).toBe("agent:support-bot");
    await h.settle();
    const message = rootMessage(h, "C0SUPPORT", (await store.getRequest(id))?.slackTs);
    expect(visibleText(message)).toContain("Executed");
    expect(visibleText(message)).toContain("refund re_123 issued");
    expect(actionsOf(message)).toBeUndefined();
    const get = await h.api("GET", `/v1/requests/${id}`);
    expect(get.json.outcome.status).toBe("succeeded");
  });

  it("approved + outcome failed → shown as Failed on the message", async () => {
    h = await startHarness();
    const id = await approved(h);
    const res = await h.api("POST", `/v1/requests/${id}/outcome`, {
      status: "failed",
      detail: "card declined",
    });
    expect(res.status).toBe(200);
    await h.settle();
    const message = rootMessage(h, "C0SUPPORT", (await h.service.deps.store.getRequest(id))?.slackTs);
    expect(visibleText(message)).toContain("Failed");
    expect(visibleText(message)).toContain("card declined");
    expect(visibleText(message)).not.toContain("Executed");
  });

  it("outcome reported + outcome again → 409, the first one stays", async () => {
    h = await startHarness();
    const id = await approved(h);
    expect((await h.api("POST", `/v1/requests/${id}/outcome`, { status: "succeeded" })).status).toBe(200);
    const again = await h.api("POST", `/v1/requests/${id}/outcome`, { status: "failed", detail: "oops" });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("conflict");
    expect(again.json.error.message).toMatch(/already/);
    const row = (await h.service.deps.store.getRequest(id))!;
    expect(JSON.parse(row.outcome!).status).toBe("succeeded");
    expect((await auditEvents(h.service.deps.store, id)).filter((e) => e === "outcome")).toHaveLength(1);
  });

  it.each(["pending", "expired", "cancelled", "rejected"])(
    "%s + outcome → 409 conflict, nothing stored",
    async (status) => {
      h = await startHarness();
      let id: string;
      if (status === "rejected") {
        id = (await h.create({ action: "db.drop_table", summary: "Drop it", params: {} })).json.id;
      } else {
        id = await createPosted(h);
        if (status === "expired") {
          h.clock.advance(30 * MINUTE);
          await h.service.sweepNow();
        }
        if (status === "cancelled") await h.api("POST", `/v1/requests/${id}/cancel`, {});
      }
      expect((await h.service.deps.store.getRequest(id))?.status).toBe(status);
      const res = await h.api("POST", `/v1/requests/${id}/outcome`, { status: "succeeded" });
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe("conflict");
      expect(res.json.error.message).toContain(status);
      expect((await h.service.deps.store.getRequest(id))?.outcome).toBeNull();
      expect(await auditEvents(h.service.deps.store, id)).not.toContain("outcome");
    },
  );

  it("approved by policy + outcome → recorded (no Slack message to update)", async () => {
    h = await startHarness();
    const created = await h.create({ ...REFUND, params: { amount: 20, currency: "USD", order_id: "1" } });
    expect(created.json.status).toBe("approved");
    const res = await h.api("POST", `/v1/requests/${created.json.id}/outcome`, { status: "succeeded" });
    expect(res.status).toBe(200);
    expect(res.json.outcome.status).toBe("succeeded");
  });

  it("outcome with a bad status → 400, nothing stored", async () => {
    h = await startHarness();
    const id = await approved(h);
    const res = await h.api("POST", `/v1/requests/${id}/outcome`, { status: "done" });
    expect(res.status).toBe(400);
    expect((await h.service.deps.store.getRequest(id))?.outcome).toBeNull();
  });
});
