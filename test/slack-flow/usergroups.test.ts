import { describe, expect, it } from "vitest";
import { startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { useCleanups } from "../support/cleanups.ts";
import { eventually, type Harness } from "../support/harness.ts";
import { auditRows, createPosted, decisions, row } from "./helpers.ts";

/**
 * User group approvers (roles with `usergroup:`): the member lists are fetched
 * at start-up and refreshed in the background, so a click never waits on
 * usergroups.users.list; when membership truly cannot be checked the clicker
 * is told that, never "You are not an approver".
 */

const cleanups = useCleanups();
const lists = (h: Harness) => h.slack.callsTo("usergroups.users.list");
const refusal = async (h: Harness, id: string) =>
  JSON.parse((await auditRows(h, id, "refused_click"))[0]?.detail ?? "{}") as { reason?: string };

/** A fake Slack that knows S0LEADS and fails or stalls from the very start (before the service warms up). */
async function slackFromStart(members: string[]) {
  const slack = await startFakeSlack({
    validateBlocks: (b) => validateMessage(b),
    usergroups: { S0LEADS: members },
  });
  cleanups.push(() => slack.close());
  return slack;
}

describe("user group membership, warmed at start and refreshed in the background", () => {
  it("first click while usergroups.users.list answers slowly → the member approves at once from the list fetched at start-up", async () => {
    const h = await cleanups.harness({ usergroups: { S0LEADS: ["U0GROUP1"] } });
    expect(lists(h)).toHaveLength(1);
    expect(lists(h)[0]?.args).toMatchObject({ usergroup: "S0LEADS" });
    const id = await createPosted(h);
    // Slack now takes 4 s per list: far past the click's 1.5 s lookup budget.
    h.slack.delayNext("usergroups.users.list", 4_000, 100);
    expect(await h.click("U0GROUP1", "approve", id)).toBe(200);
    expect(await row(h, id)).toMatchObject({ status: "approved", resolution: "approved_by_humans" });
    expect((await decisions(h, id)).map((d) => d.approverId)).toEqual(["U0GROUP1"]);
    expect(h.slack.ephemerals("C0SUPPORT", "U0GROUP1")).toEqual([]);
    expect(lists(h)).toHaveLength(1);
    await h.settle();
  });

  it("member added in Slack after start-up → the background refresh picks it up; the click needs no lookup of its own", async () => {
    const h = await cleanups.harness({
      usergroups: { S0LEADS: ["U0GROUP1"] },
      usergroupCache: { refreshMs: 30 },
    });
    const id = await createPosted(h);
    h.slack.setUsergroup("S0LEADS", ["U0GROUP1", "U0NEWMEMBER"]);
    const before = lists(h).length;
    // Two refreshes after the change: the second certainly read the new list.
    await h.slack.waitFor((s) => s.callsTo("usergroups.users.list").length >= before + 2);
    // The fake clock has not moved: without the background refresh the start-up
    // list would be fresh enough to answer "not a member".
    h.slack.delayNext("usergroups.users.list", 4_000, 1000);
    expect(await h.click("U0NEWMEMBER", "approve", id)).toBe(200);
    expect(await row(h, id)).toMatchObject({ status: "approved" });
    expect((await decisions(h, id)).map((d) => d.approverId)).toEqual(["U0NEWMEMBER"]);
    await h.settle();
  });

  it("member removed in Slack → the background refresh takes the right away", async () => {
    const h = await cleanups.harness({
      usergroups: { S0LEADS: ["U0GROUP1", "U0LEAVER"] },
      usergroupCache: { refreshMs: 30 },
    });
    const id = await createPosted(h);
    h.slack.setUsergroup("S0LEADS", ["U0GROUP1"]);
    const before = lists(h).length;
    await h.slack.waitFor((s) => s.callsTo("usergroups.users.list").length >= before + 2);
    await h.click("U0LEAVER", "approve", id);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAVER")[0]);
    expect(ephemeral.text).toContain("You are not an approver");
    expect((await row(h, id)).status).toBe("pending");
    expect(await refusal(h, id)).toEqual({ decision: "approve", reason: "not_an_approver" });
  });

  it("Slack failing since start-up (no list ever) → the member is told membership could not be checked, not that they are no approver; audited as membership_unknown; listed approvers unaffected", async () => {
    const slack = await slackFromStart(["U0GROUP1"]);
    slack.failNext("usergroups.users.list", { error: "internal_error", times: 1000 });
    const h = await cleanups.harness({ slack });
    const id = await createPosted(h);

    expect(await h.click("U0GROUP1", "approve", id)).toBe(200);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0GROUP1")[0]);
    expect(ephemeral.text).toContain("Slack could not confirm whether you are in <!subteam^S0LEADS>");
    expect(ephemeral.text).toContain("Nothing was recorded");
    expect(ephemeral.text).not.toContain("not an approver");
    expect((await row(h, id)).status).toBe("pending");
    expect(await decisions(h, id)).toEqual([]);
    expect(await refusal(h, id)).toEqual({ decision: "approve", reason: "membership_unknown" });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('countersign_refused_clicks_total{reason="membership_unknown"} 1');

    await h.click("U0LEAD1", "approve", id);
    await eventually(async () => (await row(h, id)).status === "approved");
    await h.settle();
  });

  it("no list yet and Slack answers only after the click's budget → told it could not be checked; the late answer fills the cache and the next click goes through", async () => {
    const slack = await slackFromStart(["U0GROUP1"]);
    slack.failNext("usergroups.users.list", { error: "internal_error", times: 1 });
    const h = await cleanups.harness({ slack });
    const id = await createPosted(h);
    h.slack.delayNext("usergroups.users.list", 2_500);

    await h.click("U0GROUP1", "approve", id);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0GROUP1")[0], 5_000);
    expect(ephemeral.text).toContain("Slack could not confirm");
    expect(await refusal(h, id)).toMatchObject({ reason: "membership_unknown" });
    expect((await row(h, id)).status).toBe("pending");

    await h.slack.waitFor((s) => s.callsTo("usergroups.users.list").some((c) => c.response.ok), 5_000);
    await h.click("U0GROUP1", "approve", id);
    expect(await row(h, id)).toMatchObject({ status: "approved" });
    await h.settle();
  });

  it("a list older than an hour while Slack fails → no longer trusted: membership unknown", async () => {
    const h = await cleanups.harness({ usergroups: { S0LEADS: ["U0GROUP1"] } });
    h.clock.advance(61 * 60_000);
    const id = await createPosted(h);
    h.slack.failNext("usergroups.users.list", { error: "internal_error", times: 1000 });
    await h.click("U0GROUP1", "approve", id);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0GROUP1")[0]);
    expect(ephemeral.text).toContain("Slack could not confirm");
    expect(await refusal(h, id)).toMatchObject({ reason: "membership_unknown" });
  });

  it("a user group Slack says does not exist (no_such_subteam) → it has no members: a plain refusal, not 'could not check'", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    await h.click("U0GROUP1", "approve", id);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0GROUP1")[0]);
    expect(ephemeral.text).toContain("You are not an approver");
    expect(await refusal(h, id)).toMatchObject({ reason: "not_an_approver" });
    expect(h.logs.join("")).toContain("no_such_subteam");
  });

  it("concurrent clicks by several members on a cold cache (the start-up fetch failed) share one usergroups.users.list call", async () => {
    const slack = await slackFromStart(["U0GROUP1", "U0GROUP2", "U0GROUP3"]);
    slack.failNext("usergroups.users.list", { error: "internal_error", times: 1 });
    const h = await cleanups.harness({ slack });
    const id = await createPosted(h);
    const before = lists(h).length;
    h.slack.delayNext("usergroups.users.list", 100);
    const statuses = await Promise.all(
      ["U0GROUP1", "U0GROUP2", "U0GROUP3"].map((u) => h.click(u, "approve", id)),
    );
    expect(statuses).toEqual([200, 200, 200]);
    await eventually(
      async () =>
        (await auditRows(h, id, "vote_approve")).length + (await auditRows(h, id, "late_click")).length === 3,
    );
    await h.settle();
    expect(lists(h).length - before).toBe(1);
    expect((await row(h, id)).status).toBe("approved");
    expect(await decisions(h, id)).toHaveLength(1);
  });

  it("reject modal submitted while Slack cannot confirm membership → the modal says so on the reason field; nothing stored", async () => {
    const slack = await slackFromStart(["U0GROUP1"]);
    slack.failNext("usergroups.users.list", { error: "internal_error", times: 1000 });
    const h = await cleanups.harness({ slack });
    const id = await createPosted(h);
    const res = await h.submitReject("U0GROUP1", id, "not today");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_action: "errors" });
    const error = (res.json as { errors: { reason: string } }).errors.reason;
    expect(error).toContain("Slack could not confirm");
    expect(error).not.toContain("not an approver");
    expect((await row(h, id)).status).toBe("pending");
  });
});
