import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { REFUND } from "../support/harness.ts";
import { type ApiHarness, expectError, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeEach(async () => {
  h = await startApi();
});
afterEach(async () => {
  await h?.stop();
});

interface Ev {
  seq: number;
  at: string;
  event: string;
  actor: string | null;
  detail: Record<string, unknown> | null;
}
const eventsOf = async (id: string): Promise<Ev[]> => {
  const res = await h.api("GET", `/v1/requests/${id}/events`);
  expect(res.status).toBe(200);
  return res.json;
};

describe("GET /v1/requests/:id/events", () => {
  it("created → refused click → approved → outcome: every event in order with seq, at, actor, detail", async () => {
    const created = await h.create(REFUND);
    const id = created.json.id;
    await h.settle();
    expect(await h.click("U0STRANGER", "approve", id)).toBe(200);
    expect(await h.click("U0LEAD1", "approve", id)).toBe(200);
    await h.settle();
    await h.api("POST", `/v1/requests/${id}/outcome`, { status: "succeeded", detail: "refunded" });
    await h.settle();

    const events = await eventsOf(id);
    // The refusal's ephemeral leaves through the outbox whenever it gets to it.
    expect(events.map((e) => e.event)).toContain("ephemeral_sent");
    expect(events.map((e) => e.event).filter((e) => e !== "ephemeral_sent")).toEqual([
      "created",
      "routed",
      "posted",
      "refused_click",
      "vote_approve",
      "approved",
      "message_updated",
      "outcome",
      "message_updated",
    ]);
    const seqs = events.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(events[0]).toMatchObject({
      event: "created",
      actor: "agent:support-bot",
      detail: { action: "refund.issue", policy: "medium-refunds", args_hash: created.json.args_hash },
    });
    expect(events[0]?.at).toBe(created.json.created_at);
    expect(events[1]).toMatchObject({ detail: { policy: "medium-refunds", role: "support-lead" } });
    expect(events[3]).toMatchObject({
      actor: "slack:U0STRANGER",
      detail: { decision: "approve", reason: expect.any(String) },
    });
    expect(events.find((e) => e.event === "approved")).toMatchObject({
      actor: "slack:U0LEAD1",
      detail: { resolution: "approved_by_humans" },
    });
    expect(events[8]).toMatchObject({
      actor: "agent:support-bot",
      detail: { status: "succeeded", detail: "refunded" },
    });
  });

  it("reminded → escalated → expired on the fake clock, and a cancel, are all listed", async () => {
    const a = (await h.create(REFUND)).json.id;
    const b = (await h.create(REFUND)).json.id;
    await h.settle();
    await h.api("POST", `/v1/requests/${b}/cancel`, {});
    for (const minutes of [8, 8, 16]) {
      h.clock.advance(minutes * 60_000);
      await h.service.sweepNow();
      await h.settle();
    }
    const kinds = (await eventsOf(a)).map((e) => e.event);
    for (const kind of ["reminded", "escalated", "escalation_dm_sent", "expired"])
      expect(kinds).toContain(kind);
    expect((await eventsOf(a)).find((e) => e.event === "expired")).toMatchObject({
      actor: "system:sweep",
      detail: { resolution: "approval_timeout" },
    });
    expect((await eventsOf(b)).map((e) => e.event)).toContain("cancelled");
  });

  it("a policy decision → created with the matched policy, then approved by policy", async () => {
    const res = await h.create({ ...REFUND, params: { amount: 10 } });
    const events = await eventsOf(res.json.id);
    expect(events.map((e) => [e.event, e.actor])).toEqual([
      ["created", "agent:support-bot"],
      ["approved", "policy:small-refunds"],
    ]);
    expect(events[0]?.detail).toMatchObject({ policy: "small-refunds" });
  });

  it("another agent's request → 404 not_found, no events leaked", async () => {
    const mine = await h.create(REFUND);
    const res = await h.api("GET", `/v1/requests/${mine.json.id}/events`, undefined, {
      token: TOKENS.deploy,
    });
    expectError(res, 404, "not_found");
    expect(JSON.stringify(res.json)).not.toContain("created");
  });

  it("POST → 405 naming GET; an unknown id → 404", async () => {
    const mine = await h.create(REFUND);
    const post = await h.api("POST", `/v1/requests/${mine.json.id}/events`, {});
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expectError(await h.api("GET", "/v1/requests/req_nope/events"), 404, "not_found");
  });
});
