import { afterEach, describe, expect, it } from "vitest";
import { startTestDemo, type TestDemo, until } from "./support.ts";

let t: TestDemo | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

async function postedRefund(): Promise<{ id: string; ts: string }> {
  const created = await t!.api("POST", "/v1/requests", {
    action: "refund.issue",
    summary: "Refund $120 to Dana Ruiz for a defective blender",
    params: { amount: 120, currency: "USD" },
  });
  expect(created.status).toBe(201);
  const id = created.json.id as string;
  const message = await t!.demo.slack.waitFor((s) =>
    s.messages("C0SUPPORT").find((m) => JSON.stringify(m.blocks).includes(id)),
  );
  return { id, ts: message.ts };
}

describe("the demo in Socket Mode (DEMO_SOCKET_MODE=1)", () => {
  it("the page's Approve travels over the WebSocket and is acked: approved by the clicker, no signed HTTP post", async () => {
    t = await startTestDemo({ socketMode: true });
    expect(t.demo.slack.socket.connections).toBe(1);
    const { id, ts } = await postedRefund();
    const click = await t.sim("/sim/click", {
      as: "U0LEAD1",
      channel: "C0SUPPORT",
      ts,
      actionId: "approve",
      value: id,
    });
    expect(click.json).toEqual({ appStatus: 200 });
    expect(t.demo.slack.socket.envelopes).toEqual([
      expect.objectContaining({ type: "interactive", acked: true }),
    ]);
    const done = await until(async () => {
      const r = await t!.api("GET", `/v1/requests/${id}`);
      return r.json.status === "approved" ? r.json : null;
    });
    expect(done.decisions[0].approver.slack_user_id).toBe("U0LEAD1");
  });

  it("Reject opens the modal over the WebSocket; the submission's errors and its success come back in the acks", async () => {
    t = await startTestDemo({ socketMode: true });
    const { id, ts } = await postedRefund();
    await t.sim("/sim/click", { as: "U0LEAD2", channel: "C0SUPPORT", ts, actionId: "reject", value: id });
    await until(async () => (await t!.sim("/sim/state?channel=C0SUPPORT&as=U0LEAD2")).json.modal);
    const viewId = t.demo.slack.views[0]!.id;
    const empty = await t.sim("/sim/submit", { as: "U0LEAD2", viewId, values: { reason: { reason: " " } } });
    expect(empty.json.errors).toEqual({ reason: "Please say why you are rejecting this request." });
    const ok = await t.sim("/sim/submit", {
      as: "U0LEAD2",
      viewId,
      values: { reason: { reason: "Duplicate" } },
    });
    expect(ok.json).toEqual({ appStatus: 200, errors: null });
    const rejected = await t.api("GET", `/v1/requests/${id}`);
    expect(rejected.json).toMatchObject({ status: "rejected", resolution: "rejected_by_human" });
  });
});
