import { describe, expect, it } from "vitest";
import { blockActionsPayload, postToApp } from "../../src/fake-slack/slack-requests.ts";
import { useCleanups } from "../support/cleanups.ts";
import { eventually, type Harness, REFUND, SIGNING_SECRET } from "../support/harness.ts";
import { auditEvents, auditRows, clickRaw, createPosted, decisions, pause, row } from "./helpers.ts";

/**
 * A click counts only for the request of the message it came from: the
 * button's value (the request id) must be the request whose channel message
 * or escalation DM it sits on.
 */

const cleanups = useCleanups();
const refusals = async (h: Harness, id: string) =>
  (await auditRows(h, id, "refused_click")).map((r) => JSON.parse(r.detail ?? "{}") as { reason?: string });

/** A click on an arbitrary message, as Slack would send it. */
function clickOn(
  h: Harness,
  user: string,
  action: "approve" | "reject",
  value: string,
  where: { channel: string; ts: string; metadata?: unknown },
) {
  return postToApp(
    `${h.url}/slack/events`,
    SIGNING_SECRET,
    blockActionsPayload({
      user: { id: user },
      actionId: action,
      value,
      channelId: where.channel,
      messageTs: where.ts,
      ...(where.metadata === undefined ? {} : { message: { metadata: where.metadata } }),
    }),
  );
}

describe("a click applies only to the request of the message it came from", () => {
  it("Approve on request A's message whose value names request B → refused ephemerally (wrong_message, audited on B), neither request changes", async () => {
    const h = await cleanups.harness();
    const a = await createPosted(h);
    const b = await createPosted(h);
    const onA = await row(h, a);

    const res = await clickOn(h, "U0LEAD1", "approve", b, { channel: onA.slackChannel!, ts: onA.slackTs! });
    expect(res.status).toBe(200);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD1")[0]);
    expect(ephemeral.text).toContain("does not belong to the request of the message");
    expect(await refusals(h, b)).toEqual([{ decision: "approve", reason: "wrong_message" }]);
    for (const id of [a, b]) {
      expect((await row(h, id)).status).toBe("pending");
      expect(await decisions(h, id)).toEqual([]);
    }
    expect(await auditEvents(h, a)).not.toContain("refused_click");
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('countersign_refused_clicks_total{reason="wrong_message"} 1');

    // The same approver on B's own message: counted.
    await h.click("U0LEAD1", "approve", b);
    await eventually(async () => (await row(h, b)).status === "approved");
    expect((await row(h, a)).status).toBe("pending");
    await h.settle();
  });

  it("Reject on another request's message → refused before any modal opens", async () => {
    const h = await cleanups.harness();
    const a = await createPosted(h);
    const b = await createPosted(h);
    const onA = await row(h, a);
    await clickOn(h, "U0LEAD1", "reject", b, { channel: onA.slackChannel!, ts: onA.slackTs! });
    await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD1")[0]);
    await pause(100);
    expect(h.slack.views).toHaveLength(0);
    expect(await refusals(h, b)).toEqual([{ decision: "reject", reason: "wrong_message" }]);
  });

  it("right ts but in another channel → refused", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    const r = await row(h, id);
    await clickOn(h, "U0LEAD1", "approve", id, { channel: "C0ELSEWHERE", ts: r.slackTs! });
    await eventually(async () => (await refusals(h, id)).length === 1);
    expect(await refusals(h, id)).toEqual([{ decision: "approve", reason: "wrong_message" }]);
    expect((await row(h, id)).status).toBe("pending");
  });

  it("the message's own metadata names another request (ts matches) → refused", async () => {
    const h = await cleanups.harness();
    const a = await createPosted(h);
    const b = await createPosted(h);
    const onB = await row(h, b);
    await clickOn(h, "U0LEAD1", "approve", b, {
      channel: onB.slackChannel!,
      ts: onB.slackTs!,
      metadata: { event_type: "countersign_request", event_payload: { request_id: a } },
    });
    await eventually(async () => (await refusals(h, b)).length === 1);
    expect(await refusals(h, b)).toEqual([{ decision: "approve", reason: "wrong_message" }]);
  });

  it("the clicked message as the fake Slack stores it (blocks and metadata echoed) → approved", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    const r = await row(h, id);
    const message = h.slack.messages("C0SUPPORT").find((m) => m.ts === r.slackTs)!;
    expect(message.metadata).toMatchObject({ event_payload: { request_id: id } });
    await clickOn(h, "U0LEAD1", "approve", id, {
      channel: "C0SUPPORT",
      ts: r.slackTs!,
      metadata: message.metadata,
    });
    await eventually(async () => (await row(h, id)).status === "approved");
    await h.settle();
  });

  it("Slack showed the message but its answer is late (ts not recorded yet) → a click without metadata is told to try again; with the message's metadata it counts", async () => {
    const h = await cleanups.harness();
    h.slack.answerLateNext("chat.postMessage", 1_500);
    const created = await h.create(REFUND);
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const message = await h.slack.waitFor((s) => s.messages("C0SUPPORT")[0]);
    expect((await row(h, id)).slackTs).toBeNull();

    await clickOn(h, "U0LEAD1", "approve", id, { channel: "C0SUPPORT", ts: message.ts });
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD1")[0], 5_000);
    expect(ephemeral.text).toContain("has not finished recording this message");
    expect(await refusals(h, id)).toEqual([{ decision: "approve", reason: "message_not_recorded" }]);

    await clickOn(h, "U0LEAD2", "approve", id, {
      channel: "C0SUPPORT",
      ts: message.ts,
      metadata: message.metadata,
    });
    await eventually(async () => (await row(h, id)).status === "approved");
    expect((await decisions(h, id)).map((d) => d.approverId)).toEqual(["U0LEAD2"]);
    await h.settle();
  });

  it("a click on the request's own message (as every test does) is unaffected: clickRaw on the recorded ts → approved", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    expect((await clickRaw(h, "U0LEAD1", "approve", id)).status).toBe(200);
    await eventually(async () => (await row(h, id)).status === "approved");
    expect(await refusals(h, id)).toEqual([]);
    await h.settle();
  });
});
