import { afterEach, describe, expect, it } from "vitest";
import { eventually, type Harness, REFUND, startHarness } from "../support/harness.ts";
import {
  auditEvents,
  auditRows,
  channelMessage,
  clickRaw,
  createPosted,
  decisions,
  hasButtons,
  LARGE_REFUND,
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

const FINAL_EVENTS = ["approved", "rejected", "expired", "cancelled"];

describe("Approve through the signed Slack listener", () => {
  it("pending + approver clicks Approve → approved, approver id and name stored, message updated without buttons naming who decided", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    const posted = await channelMessage(h, id);
    expect(hasButtons(posted)).toBe(true);
    const decidedAt = h.clock.now();

    expect(await h.click("U0LEAD1", "approve", id, { username: "lead.one" })).toBe(200);
    await eventually(async () => (await row(h!, id)).status === "approved");
    await h.settle();

    const r = await row(h, id);
    expect(r).toMatchObject({ status: "approved", resolution: "approved_by_humans", decidedAt });
    expect(await decisions(h, id)).toEqual([
      expect.objectContaining({
        approverId: "U0LEAD1",
        approverName: "lead.one",
        decision: "approve",
        comment: null,
        at: decidedAt,
      }),
    ]);
    const api = await h.api("GET", `/v1/requests/${id}`);
    expect(api.json.decisions).toEqual([
      {
        decision: "approve",
        approver: { slack_user_id: "U0LEAD1", name: "lead.one" },
        comment: null,
        at: new Date(decidedAt).toISOString(),
        args_hash: api.json.args_hash,
      },
    ]);
    expect(api.json).toMatchObject({ approved_params: null, approved_args_hash: null, revises: null });

    const updates = h.slack.callsTo("chat.update");
    expect(updates).toHaveLength(1);
    expect(updates[0]?.response.ok).toBe(true);
    expect(updates[0]?.args).toMatchObject({ channel: "C0SUPPORT", ts: r.slackTs });
    const message = await channelMessage(h, id);
    expect(message.updates).toBe(1);
    expect(hasButtons(message)).toBe(false);
    expect(JSON.stringify(message.blocks)).toContain("Approved by <@U0LEAD1>");
    expect(JSON.stringify(message.blocks)).toContain(`<!date^${Math.floor(decidedAt / 1000)}^`);
    expect(message.text).toMatch(/^Approved/);
    expect(h.slack.ephemerals()).toHaveLength(0);

    const events = await auditEvents(h, id);
    expect(events.filter((e) => e === "vote_approve")).toHaveLength(1);
    expect(events.filter((e) => e === "approved")).toHaveLength(1);
    expect((await auditRows(h, id, "approved"))[0]?.actor).toBe("slack:U0LEAD1");
    expect(events).toContain("message_updated");
  });

  it("pending + Approve by someone who is neither approver nor usergroup member → ack 200, ephemeral refusal, refused_click, still pending, no vote", async () => {
    h = await startHarness();
    h.slack.setUsergroup("S0LEADS", ["U0GROUPIE"]);
    const id = await createPosted(h);
    const before = await snapshot(h, id);

    const res = await clickRaw(h, "U0STRANGER", "approve", id);
    expect(res.status).toBe(200);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0STRANGER")[0]);
    expect(ephemeral.text).toContain("You are not an approver");
    // It says who may decide instead.
    expect(ephemeral.text).toContain("<@U0LEAD1>");
    expect(ephemeral.text).toContain("<!subteam^S0LEADS>");
    const call = h.slack.callsTo("chat.postEphemeral")[0];
    expect(call?.args).toMatchObject({ channel: "C0SUPPORT", user: "U0STRANGER" });
    await h.settle();

    expect(await snapshot(h, id)).toEqual(before);
    expect(await row(h, id)).toMatchObject({ status: "pending", resolution: null, decidedAt: null });
    expect(await decisions(h, id)).toEqual([]);
    const refused = await auditRows(h, id, "refused_click");
    expect(refused).toHaveLength(1);
    expect(refused[0]?.actor).toBe("slack:U0STRANGER");
    expect(JSON.parse(refused[0]?.detail ?? "{}")).toEqual({
      decision: "approve",
      reason: "not_an_approver",
    });
    expect(await auditEvents(h, id)).not.toContain("vote_approve");
    expect(h.slack.callsTo("chat.update")).toHaveLength(0);
    expect(hasButtons(await channelMessage(h, id))).toBe(true);
  });

  it("pending + click by the on_behalf_of user who is also an approver → refused on Approve and on Reject, nothing changes", async () => {
    h = await startHarness();
    const id = await createPosted(h, { ...REFUND, on_behalf_of: "U0LEAD2" });
    const before = await snapshot(h, id);

    expect(await h.click("U0LEAD2", "approve", id)).toBe(200);
    const first = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD2")[0]);
    expect(first.text).toContain("You asked for this action");
    expect(await h.click("U0LEAD2", "reject", id)).toBe(200);
    await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD2").length === 2);
    await h.settle();

    expect(h.slack.callsTo("views.open")).toHaveLength(0);
    expect(await snapshot(h, id)).toEqual(before);
    expect(await decisions(h, id)).toEqual([]);
    const refused = (await auditRows(h, id, "refused_click")).map((a) => JSON.parse(a.detail ?? "{}"));
    expect(refused).toEqual([
      { decision: "approve", reason: "requester" },
      { decision: "reject", reason: "requester" },
    ]);
    expect(h.slack.callsTo("chat.update")).toHaveLength(0);

    // The other approver still can.
    await h.click("U0LEAD1", "approve", id);
    await eventually(async () => (await row(h!, id)).status === "approved");
  });
});

describe("usergroup approvers", () => {
  it("S0LEADS member approves → approved; the member list is cached; a non-member is refused without a new lookup; a newly added member is picked up once the refresh interval passed", async () => {
    // The list is fetched once at start-up (and refreshed in the background; see usergroups.test.ts).
    h = await startHarness({ usergroups: { S0LEADS: ["U0GROUP1"] } });
    const lists = () => h!.slack.callsTo("usergroups.users.list");
    const a = await createPosted(h);
    const b = await createPosted(h);
    const c = await createPosted(h);

    await h.click("U0GROUP1", "approve", a);
    await eventually(async () => (await row(h!, a)).status === "approved");
    expect((await decisions(h, a))[0]?.approverId).toBe("U0GROUP1");
    expect(lists()).toHaveLength(1);
    expect(lists()[0]?.args).toMatchObject({ usergroup: "S0LEADS" });

    // A second check answers from the cache.
    await h.click("U0GROUP1", "approve", b);
    await eventually(async () => (await row(h!, b)).status === "approved");
    expect(lists()).toHaveLength(1);

    // Not a member: refused, and a miss right after a fetch does not call Slack again.
    await h.click("U0OUTSIDER", "approve", c);
    await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0OUTSIDER")[0]);
    expect((await row(h, c)).status).toBe("pending");
    expect(await auditRows(h, c, "refused_click")).toHaveLength(1);
    expect(lists()).toHaveLength(1);

    // Added to the group in Slack: within the refresh interval the cache still answers…
    h.slack.setUsergroup("S0LEADS", ["U0GROUP1", "U0GROUP2"]);
    await h.click("U0GROUP2", "approve", c);
    await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0GROUP2")[0]);
    expect((await row(h, c)).status).toBe("pending");
    expect(lists()).toHaveLength(1);

    // …and after it, a miss refreshes the list and the new member may approve.
    h.clock.advance(10_001);
    await h.click("U0GROUP2", "approve", c);
    await eventually(async () => (await row(h!, c)).status === "approved");
    expect((await decisions(h, c)).map((d) => d.approverId)).toEqual(["U0GROUP2"]);
    expect(lists()).toHaveLength(2);
    await h.settle();
  });

  it("usergroup lookup fails after a successful one → the cached member list still answers", async () => {
    h = await startHarness({ usergroups: { S0LEADS: ["U0GROUP1", "U0GROUP2"] } });
    const a = await createPosted(h);
    const b = await createPosted(h);
    await h.click("U0GROUP1", "approve", a);
    await eventually(async () => (await row(h!, a)).status === "approved");

    // Past the cache's ttl, Slack answers errors: the last known list is better than nothing.
    h.clock.advance(5 * 60_000);
    h.slack.failNext("usergroups.users.list", { error: "ratelimited", times: 50 });
    await h.click("U0GROUP2", "approve", b);
    await eventually(async () => (await row(h!, b)).status === "approved", 8000);
    expect((await decisions(h, b)).map((d) => d.approverId)).toEqual(["U0GROUP2"]);
    await h.settle();
  });
});

describe("dual approval (large refund → finance, approvals: 2)", () => {
  it("first approve → pending 1 of 2; same approver again → ephemeral already, no second vote; second approver → approved_by_humans with two decisions", async () => {
    h = await startHarness();
    const id = await createPosted(h, LARGE_REFUND);
    expect(await row(h, id)).toMatchObject({
      role: "finance",
      approvalsRequired: 2,
      slackChannel: "C0FINANCE",
    });

    await h.click("U0FIN1", "approve", id);
    await eventually(async () => (await decisions(h!, id)).length === 1);
    await h.settle();
    expect(await row(h, id)).toMatchObject({ status: "pending", resolution: null });
    let message = await channelMessage(h, id);
    expect(message.updates).toBe(1);
    expect(JSON.stringify(message.blocks)).toContain("1 of 2");
    expect(JSON.stringify(message.blocks)).toContain("<@U0FIN1>");
    expect(hasButtons(message)).toBe(true);

    await h.click("U0FIN1", "approve", id);
    const already = await h.slack.waitFor((s) => s.ephemerals("C0FINANCE", "U0FIN1")[0]);
    expect(already.text).toMatch(/already/i);
    await h.settle();
    expect(await decisions(h, id)).toHaveLength(1);
    expect((await row(h, id)).status).toBe("pending");
    expect(await auditRows(h, id, "vote_approve")).toHaveLength(1);
    expect(JSON.parse((await auditRows(h, id, "refused_click"))[0]?.detail ?? "{}")).toEqual({
      decision: "approve",
      reason: "already_voted",
    });
    expect((await channelMessage(h, id)).updates).toBe(1);

    await h.click("U0FIN2", "approve", id);
    await eventually(async () => (await row(h!, id)).status === "approved");
    await h.settle();
    expect((await row(h, id)).resolution).toBe("approved_by_humans");
    expect((await decisions(h, id)).map((d) => [d.approverId, d.decision])).toEqual([
      ["U0FIN1", "approve"],
      ["U0FIN2", "approve"],
    ]);
    message = await channelMessage(h, id);
    expect(hasButtons(message)).toBe(false);
    expect(JSON.stringify(message.blocks)).toContain("Approved by <@U0FIN1> and <@U0FIN2>");
    expect(await auditRows(h, id, "approved")).toHaveLength(1);
  });

  it("one approve then a reject by another approver → rejected_by_human (a single reject is final)", async () => {
    h = await startHarness();
    const id = await createPosted(h, LARGE_REFUND);
    await h.click("U0FIN1", "approve", id);
    await eventually(async () => (await decisions(h!, id)).length === 1);
    await h.click("U0FIN2", "reject", id);
    const view = await h.slack.waitFor((s) => s.views[0]);
    expect(view.view.private_metadata).toBe(id);
    const submitted = await h.submitReject("U0FIN2", id, "Over the monthly budget");
    expect(submitted.status).toBe(200);
    await eventually(async () => (await row(h!, id)).status === "rejected");
    expect((await row(h, id)).resolution).toBe("rejected_by_human");
    await h.settle();
  });
});

describe("races and late clicks", () => {
  it("16 concurrent Approve clicks by two approvers on a single-approval request → exactly one decision and one transition, the rest answered ephemerally", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    const users = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? "U0LEAD1" : "U0LEAD2"));

    const statuses = await Promise.all(users.map((u) => h!.click(u, "approve", id)));
    expect(statuses).toEqual(users.map(() => 200));
    const handled = async () => {
      let n = 0;
      for (const e of ["vote_approve", "late_click", "refused_click"])
        n += (await auditRows(h!, id, e)).length;
      return n;
    };
    await eventually(async () => (await handled()) === 16);
    await h.settle();

    const r = await row(h, id);
    expect(r).toMatchObject({ status: "approved", resolution: "approved_by_humans" });
    const votes = await decisions(h, id);
    expect(votes.length).toBeLessThanOrEqual(2);
    expect(votes.filter((d) => d.decision === "approve")).toHaveLength(1);
    const winner = votes[0]!.approverId;
    expect(["U0LEAD1", "U0LEAD2"]).toContain(winner);
    const events = await auditEvents(h, id);
    expect(events.filter((e) => FINAL_EVENTS.includes(e))).toEqual(["approved"]);
    expect((await auditRows(h, id, "approved"))[0]?.actor).toBe(`slack:${winner}`);
    expect(await auditRows(h, id, "vote_approve")).toHaveLength(1);
    expect(
      (await auditRows(h, id, "late_click")).length + (await auditRows(h, id, "refused_click")).length,
    ).toBe(15);

    // One final chat.update, and every losing click was told.
    expect(h.slack.callsTo("chat.update")).toHaveLength(1);
    expect(h.slack.ephemerals("C0SUPPORT")).toHaveLength(15);
    for (const e of h.slack.ephemerals("C0SUPPORT"))
      expect(e.text).toContain(`already approved by <@${winner}>`);
    const message = await channelMessage(h, id);
    expect(hasButtons(message)).toBe(false);
    expect(JSON.stringify(message.blocks)).toContain(`Approved by <@${winner}>`);
  });

  it("12 concurrent Approve clicks by three finance approvers on a dual-approval request → approved by exactly two distinct approvers, one transition", async () => {
    h = await startHarness();
    const id = await createPosted(h, LARGE_REFUND);
    const users = Array.from({ length: 12 }, (_, i) => `U0FIN${(i % 3) + 1}`);
    const statuses = await Promise.all(users.map((u) => h!.click(u, "approve", id)));
    expect(statuses).toEqual(users.map(() => 200));
    const handled = async () => {
      let n = 0;
      for (const e of ["vote_approve", "late_click", "refused_click"])
        n += (await auditRows(h!, id, e)).length;
      return n;
    };
    await eventually(async () => (await handled()) === 12);
    await h.settle();

    expect(await row(h, id)).toMatchObject({ status: "approved", resolution: "approved_by_humans" });
    const votes = await decisions(h, id);
    expect(votes).toHaveLength(2);
    expect(new Set(votes.map((d) => d.approverId)).size).toBe(2);
    expect(await auditRows(h, id, "vote_approve")).toHaveLength(2);
    expect((await auditEvents(h, id)).filter((e) => FINAL_EVENTS.includes(e))).toEqual(["approved"]);
    expect(h.slack.ephemerals("C0FINANCE")).toHaveLength(10);
    expect(hasButtons(await channelMessage(h, id))).toBe(false);
  });

  it("approved + late Approve/Reject click → ephemeral naming who approved, late_click audited, no modal, nothing changes", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    await h.click("U0LEAD1", "approve", id);
    await eventually(async () => (await row(h!, id)).status === "approved");
    await h.settle();
    const before = await snapshot(h, id);
    const updatesBefore = h.slack.callsTo("chat.update").length;

    expect(await h.click("U0LEAD2", "approve", id)).toBe(200);
    const late = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD2")[0]);
    expect(late.text).toContain("already approved by <@U0LEAD1>");
    expect(await h.click("U0LEAD2", "reject", id)).toBe(200);
    await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD2").length === 2);
    await h.settle();

    expect(await snapshot(h, id)).toEqual(before);
    expect(h.slack.callsTo("views.open")).toHaveLength(0);
    expect(h.slack.callsTo("chat.update")).toHaveLength(updatesBefore);
    const lateRows = await auditRows(h, id, "late_click");
    expect(lateRows.map((a) => [a.actor, JSON.parse(a.detail ?? "{}")])).toEqual([
      ["slack:U0LEAD2", { decision: "approve", status: "approved" }],
      ["slack:U0LEAD2", { decision: "reject", status: "approved" }],
    ]);
  });

  it("cancelled via the API + late Approve click → ephemeral saying the agent cancelled it, late_click, no vote", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    const cancelled = await h.api("POST", `/v1/requests/${id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    await h.settle();
    expect(JSON.stringify((await channelMessage(h, id)).blocks)).toContain("Cancelled by the agent");
    const before = await snapshot(h, id);

    expect(await h.click("U0LEAD1", "approve", id)).toBe(200);
    const late = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD1")[0]);
    expect(late.text).toContain("cancelled by the agent");
    await h.settle();
    expect(await snapshot(h, id)).toEqual(before);
    expect((await row(h, id)).status).toBe("cancelled");
    expect(await decisions(h, id)).toEqual([]);
    expect(await auditRows(h, id, "late_click")).toHaveLength(1);
    expect(await auditEvents(h, id)).not.toContain("vote_approve");
  });

  it("expired by the sweep + manager clicks Approve in the escalation DM → ephemeral in the DM saying it expired, late_click, still expired", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    h.clock.advance(15 * 60_000 + 1);
    await h.service.sweepNow();
    await h.settle();
    h.clock.advance(15 * 60_000);
    expect((await h.service.sweepNow()).expired).toBe(1);
    await h.settle();
    const r = await row(h, id);
    expect(r).toMatchObject({ status: "expired", resolution: "approval_timeout" });
    const dm = h.slack.workspace.message(r.dmChannel!, r.dmTs!);
    expect(dm && hasButtons(dm)).toBe(false);

    await h.click("U0MANAGER", "approve", id, { channel: r.dmChannel!, ts: r.dmTs! });
    const late = await h.slack.waitFor((s) => s.ephemerals(r.dmChannel!, "U0MANAGER")[0]);
    expect(late.text).toMatch(/expired .*without a decision/);
    await h.settle();
    expect((await row(h, id)).status).toBe("expired");
    expect(await decisions(h, id)).toEqual([]);
    expect(await auditRows(h, id, "late_click")).toHaveLength(1);
  });

  it("click on an unknown request id → ack 200, nothing stored, no Slack calls", async () => {
    h = await startHarness();
    await createPosted(h);
    const calls = h.slack.calls.length;
    expect(
      await h.click("U0LEAD1", "approve", "req_doesnotexist", { channel: "C0SUPPORT", ts: "1.000100" }),
    ).toBe(200);
    await pause();
    expect(await h.service.deps.store.auditFor("req_doesnotexist")).toEqual([]);
    expect(h.slack.calls.slice(calls).filter((c) => c.method !== "auth.test")).toEqual([]);
  });
});

describe("escalation", () => {
  it("escalated + stranger clicks Approve or submits a rejection → refusal names the manager among who may decide", async () => {
    h = await startHarness();
    h.slack.setUsergroup("S0LEADS", []);
    const id = await createPosted(h);
    h.clock.advance(15 * 60_000 + 1);
    await h.service.sweepNow();
    await h.settle();

    await h.click("U0STRANGER", "approve", id);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0STRANGER")[0]);
    expect(ephemeral.text).toContain("<@U0MANAGER> (escalation)");
    const modal = await submitRejectRaw(h, "U0STRANGER", id, "no");
    expect(modal.json).toEqual({
      response_action: "errors",
      errors: { reason: expect.stringContaining("<@U0MANAGER> (escalation)") },
    });
    await h.settle();
    expect((await row(h, id)).status).toBe("pending");
  });

  it("pending + escalate_after elapsed → manager DM'd; the manager approves from the DM → approved, channel message and DM updated", async () => {
    h = await startHarness();
    const id = await createPosted(h);

    // Before escalation the manager is nobody here.
    await h.click("U0MANAGER", "approve", id);
    await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0MANAGER")[0]);
    expect((await row(h, id)).status).toBe("pending");
    await h.settle();

    h.clock.advance(15 * 60_000 + 1);
    expect((await h.service.sweepNow()).escalated).toBe(1);
    await h.settle();
    const r = await row(h, id);
    expect(r.escalatedTo).toBe("U0MANAGER");
    expect(r.dmChannel).not.toBeNull();
    expect(r.dmTs).not.toBeNull();
    const dm = h.slack.workspace.message(r.dmChannel!, r.dmTs!);
    expect(dm && hasButtons(dm)).toBe(true);
    expect(h.slack.callsTo("conversations.open")[0]?.args).toMatchObject({ users: "U0MANAGER" });
    const notice = h.slack.thread("C0SUPPORT", r.slackTs!);
    expect(notice.map((m) => m.text).join("\n")).toContain("<@U0MANAGER>");

    expect(await h.click("U0MANAGER", "approve", id, { channel: r.dmChannel!, ts: r.dmTs! })).toBe(200);
    await eventually(async () => (await row(h!, id)).status === "approved");
    await h.settle();
    expect((await row(h, id)).resolution).toBe("approved_by_humans");
    expect((await decisions(h, id)).map((d) => d.approverId)).toEqual(["U0MANAGER"]);
    expect(hasButtons(await channelMessage(h, id))).toBe(false);
    const dmAfter = h.slack.workspace.message(r.dmChannel!, r.dmTs!);
    expect(dmAfter && hasButtons(dmAfter)).toBe(false);
    expect(JSON.stringify(dmAfter?.blocks)).toContain("Approved by <@U0MANAGER>");
    expect((await auditRows(h, id, "approved"))[0]?.actor).toBe("slack:U0MANAGER");
  });
});
