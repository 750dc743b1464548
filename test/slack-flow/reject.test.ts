import { afterEach, describe, expect, it } from "vitest";
import { eventually, type Harness, startHarness } from "../support/harness.ts";
import {
  auditEvents,
  auditRows,
  channelMessage,
  clickRaw,
  createPosted,
  decisions,
  hasButtons,
  pause,
  row,
  snapshot,
  submitRejectRaw,
} from "./helpers.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

type InputBlock = { type: string; block_id?: string; element?: { type?: string; action_id?: string } };

describe("Reject through the modal", () => {
  it("pending + approver clicks Reject → views.open with the reject modal for that request, nothing decided yet", async () => {
    h = await startHarness();
    const id = await createPosted(h);

    const res = await clickRaw(h, "U0LEAD1", "reject", id, { triggerId: "12345.67890.trigger-for-reject" });
    expect(res.status).toBe(200);
    const opened = await h.slack.waitFor((s) => s.views[0]);
    expect(opened.trigger_id).toBe("12345.67890.trigger-for-reject");
    const call = h.slack.callsTo("views.open")[0];
    expect(call?.response.ok).toBe(true);
    const view = opened.view as {
      callback_id?: string;
      private_metadata?: string;
      type?: string;
      blocks?: InputBlock[];
    };
    expect(view.type).toBe("modal");
    expect(view.callback_id).toBe("reject");
    expect(view.private_metadata).toBe(id);
    const input = view.blocks?.find((b) => b.type === "input" && b.block_id === "reason");
    expect(input?.block_id).toBe("reason");
    expect(input?.element).toMatchObject({ type: "plain_text_input", action_id: "reason" });

    await pause();
    expect(await row(h, id)).toMatchObject({ status: "pending", resolution: null });
    expect(await decisions(h, id)).toEqual([]);
    expect(h.slack.callsTo("chat.update")).toHaveLength(0);
    expect(h.slack.ephemerals()).toHaveLength(0);
  });

  it("reject modal submitted with a reason → rejected/rejected_by_human, comment stored and quoted (escaped) on the updated message", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    await h.click("U0LEAD1", "reject", id, { username: "lead.one" });
    await h.slack.waitFor((s) => s.views[0]);
    const reason = "Customer was already refunded via chargeback <!channel> & escalated";
    const decidedAt = h.clock.now();

    const submitted = await submitRejectRaw(h, "U0LEAD1", id, `  ${reason}\n`);
    expect(submitted.status).toBe(200);
    expect(submitted.json).toBeUndefined(); // a plain ack closes the modal
    await eventually(async () => (await row(h!, id)).status === "rejected");
    await h.settle();

    expect(await row(h, id)).toMatchObject({
      status: "rejected",
      resolution: "rejected_by_human",
      decidedAt,
    });
    expect(await decisions(h, id)).toEqual([
      expect.objectContaining({ approverId: "U0LEAD1", decision: "reject", comment: reason, at: decidedAt }),
    ]);
    const api = await h.api("GET", `/v1/requests/${id}`);
    expect(api.json.decisions[0]).toMatchObject({ decision: "reject", comment: reason });

    const message = await channelMessage(h, id);
    expect(message.updates).toBe(1);
    expect(hasButtons(message)).toBe(false);
    const json = JSON.stringify(message.blocks);
    expect(json).toContain("Rejected by <@U0LEAD1>");
    expect(json).toContain("Customer was already refunded via chargeback &lt;!channel&gt; &amp; escalated");
    expect(json).not.toContain("<!channel>");
    expect(await auditRows(h, id, "rejected")).toHaveLength(1);
    expect(await auditRows(h, id, "vote_reject")).toHaveLength(1);
    expect(JSON.parse((await auditRows(h, id, "vote_reject"))[0]?.detail ?? "{}")).toMatchObject({
      comment: reason,
    });
  });

  it.each([
    ["empty", ""],
    ["whitespace", "   \n\t  "],
    ["missing", null],
  ])(
    "reject modal submitted with a %s reason → response_action errors on reason, nothing changes",
    async (_name, value) => {
      h = await startHarness();
      const id = await createPosted(h);
      await h.click("U0LEAD1", "reject", id);
      await h.slack.waitFor((s) => s.views[0]);
      const before = await snapshot(h, id);
      const eventsBefore = await auditEvents(h, id);

      const res = await submitRejectRaw(h, "U0LEAD1", id, value);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ response_action: "errors", errors: { reason: expect.any(String) } });
      expect((res.json as { errors: { reason: string } }).errors.reason.length).toBeGreaterThan(0);
      await pause();
      expect(await snapshot(h, id)).toEqual(before);
      expect((await row(h, id)).status).toBe("pending");
      expect(await auditEvents(h, id)).toEqual(eventsBefore);
      expect(h.slack.callsTo("chat.update")).toHaveLength(0);
    },
  );

  it("reject modal submitted with a reason over the limit → errors on reason, nothing changes", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    const res = await submitRejectRaw(h, "U0LEAD1", id, "x".repeat(2001));
    expect(res.json).toEqual({
      response_action: "errors",
      errors: { reason: expect.stringContaining("2000") },
    });
    await pause();
    expect((await row(h, id)).status).toBe("pending");
    expect(await decisions(h, id)).toEqual([]);
  });

  it("pending + stranger clicks Reject → ephemeral refusal, no modal, refused_click audited", async () => {
    h = await startHarness();
    h.slack.setUsergroup("S0LEADS", []);
    const id = await createPosted(h);

    expect((await clickRaw(h, "U0STRANGER", "reject", id)).status).toBe(200);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0STRANGER")[0]);
    expect(ephemeral.text).toContain("You are not an approver");
    await h.settle();
    expect(h.slack.callsTo("views.open")).toHaveLength(0);
    expect(h.slack.views).toHaveLength(0);
    expect((await row(h, id)).status).toBe("pending");
    expect(JSON.parse((await auditRows(h, id, "refused_click"))[0]?.detail ?? "{}")).toEqual({
      decision: "reject",
      reason: "not_an_approver",
    });
  });

  it("reject modal open, another approver approves, then the modal is submitted → modal shows who approved, still approved, late_click audited", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    await h.click("U0LEAD2", "reject", id);
    await h.slack.waitFor((s) => s.views[0]);
    await h.click("U0LEAD1", "approve", id);
    await eventually(async () => (await row(h!, id)).status === "approved");
    const before = await snapshot(h, id);

    const res = await submitRejectRaw(h, "U0LEAD2", id, "too late");
    expect(res.json).toEqual({
      response_action: "errors",
      errors: { reason: expect.stringContaining("already approved by <@U0LEAD1>") },
    });
    await h.settle();
    expect(await snapshot(h, id)).toEqual(before);
    expect(await auditRows(h, id, "late_click")).toHaveLength(1);
    expect(await auditEvents(h, id)).not.toContain("vote_reject");
  });

  it("reject submission while the usergroup lookup is slower than Slack's 3 s → answered in time with an error in the modal and nothing recorded; the resubmission rejects", async () => {
    // No member list at hand: the start-up fetch failed.
    h = await startHarness({
      usergroups: { S0LEADS: ["U0GROUP1"] },
      beforeStart: (slack) => slack.failNext("usergroups.users.list", { error: "internal_error" }),
    });
    const id = await createPosted(h);
    h.slack.delayNext("usergroups.users.list", 4_000);

    const slow = await submitRejectRaw(h, "U0GROUP1", id, "Duplicate of an earlier refund");
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeLessThan(3_000);
    expect(slow.json).toEqual({ response_action: "errors", errors: { reason: expect.any(String) } });
    // Whatever the lookup says later, a submission Slack showed as failed must not take effect.
    await pause(2_500);
    expect((await row(h, id)).status).toBe("pending");
    expect(await decisions(h, id)).toEqual([]);

    // The lookup finished in the background and is cached now.
    const again = await submitRejectRaw(h, "U0GROUP1", id, "Duplicate of an earlier refund");
    expect(again.json).toBeUndefined();
    await eventually(async () => (await row(h!, id)).status === "rejected");
    expect((await decisions(h, id))[0]).toMatchObject({
      approverId: "U0GROUP1",
      comment: "Duplicate of an earlier refund",
    });
    await h.settle();
  });

  it("reject submission by someone who may not decide → errors on reason, nothing changes", async () => {
    h = await startHarness();
    h.slack.setUsergroup("S0LEADS", []);
    const id = await createPosted(h);
    const res = await submitRejectRaw(h, "U0STRANGER", id, "I just don't like it");
    expect(res.json).toEqual({
      response_action: "errors",
      errors: { reason: expect.stringContaining("not an approver") },
    });
    await h.settle();
    expect((await row(h, id)).status).toBe("pending");
    expect(await decisions(h, id)).toEqual([]);
    expect(await auditRows(h, id, "refused_click")).toHaveLength(1);
  });
});
