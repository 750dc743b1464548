import { describe, expect, it } from "vitest";
import {
  appHomeOpenedEvent,
  blockActionsPayload,
  postSignedToApp,
  postToApp,
  slashCommandBody,
  viewSubmissionPayload,
} from "../../src/fake-slack/slack-requests.ts";
import { useCleanups } from "../support/cleanups.ts";
import { eventually, type Harness, SIGNING_SECRET } from "../support/harness.ts";
import { auditEvents, createPosted, decisions, pause, row } from "./helpers.ts";

/**
 * Signed requests are answered only for the installed workspace: the bot
 * token's team (auth.test at start-up), or the ids in SLACK_TEAM_ID. The
 * signing secret is per app, not per workspace, so a valid signature alone
 * does not say which workspace a click comes from.
 */

const cleanups = useCleanups();

async function approveFrom(
  h: Harness,
  id: string,
  teams: { team: string; userTeam?: string },
  user = "U0LEAD1",
) {
  const r = await row(h, id);
  const payload = blockActionsPayload({
    user: { id: user, team_id: teams.userTeam ?? teams.team },
    actionId: "approve",
    value: id,
    channelId: r.slackChannel!,
    messageTs: r.slackTs!,
  });
  payload.team = { id: teams.team, domain: "somewhere" };
  return postToApp(`${h.url}/slack/events`, SIGNING_SECRET, payload);
}

async function refusedCount(h: Harness): Promise<number> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith('countersign_refused_clicks_total{reason="other_workspace"}'));
  return line === undefined ? 0 : Number(line.split(" ").pop());
}

/** Nothing at all happened to the request: no vote, no audit of the click, no message. */
async function untouched(h: Harness, id: string) {
  await pause(100);
  expect((await row(h, id)).status).toBe("pending");
  expect(await decisions(h, id)).toEqual([]);
  const events = await auditEvents(h, id);
  expect(events.filter((e) => /click|vote/.test(e))).toEqual([]);
  expect(h.slack.callsTo("chat.postEphemeral")).toEqual([]);
}

describe("signed requests from another workspace are refused", () => {
  it("an approver's Approve signed correctly but from team T0OTHER → acked, nothing recorded, nothing posted, logged and counted; from the installed team → approved", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    const res = await approveFrom(h, id, { team: "T0OTHER" });
    expect(res.status).toBe(200);
    await untouched(h, id);
    expect(h.logs.join("")).toContain("refused a signed Slack request from another workspace");
    expect(await refusedCount(h)).toBe(1);

    await approveFrom(h, id, { team: "T0TEST" });
    await eventually(async () => (await row(h, id)).status === "approved");
    await h.settle();
  });

  it("the installed workspace but a user from another one (a Slack Connect channel) → refused", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    expect((await approveFrom(h, id, { team: "T0TEST", userTeam: "T0PARTNER" })).status).toBe(200);
    await untouched(h, id);
  });

  it("a reject modal submitted from another workspace → acked empty, no rejection", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    const res = await postToApp(
      `${h.url}/slack/events`,
      SIGNING_SECRET,
      viewSubmissionPayload({
        user: { id: "U0LEAD1", team_id: "T0OTHER" },
        callbackId: "reject",
        privateMetadata: id,
        values: { reason: { reason: { type: "plain_text_input", value: "no" } } },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toBe("");
    await untouched(h, id);
  });

  it("/countersign and the Home tab from another workspace → no answer, no view published", async () => {
    const h = await cleanups.harness();
    await createPosted(h);
    const body = slashCommandBody({
      user: { id: "U0LEAD1" },
      command: "/countersign",
      text: "",
      channelId: "C0SUPPORT",
    }).replace("team_id=T0TEST", "team_id=T0OTHER");
    expect(body).toContain("team_id=T0OTHER");
    const res = await postSignedToApp(
      `${h.url}/slack/events`,
      SIGNING_SECRET,
      body,
      "application/x-www-form-urlencoded",
    );
    expect(res.status).toBe(200);
    expect(res.body).toBe("");

    const event = { ...appHomeOpenedEvent("U0LEAD1", "D0LEAD1"), team_id: "T0OTHER" };
    const opened = await postSignedToApp(
      `${h.url}/slack/events`,
      SIGNING_SECRET,
      JSON.stringify(event),
      "application/json",
    );
    expect(opened.status).toBe(200);
    await pause(150);
    expect(h.slack.callsTo("views.publish")).toEqual([]);
    expect(await refusedCount(h)).toBe(2);

    // From the installed workspace the same event publishes the Home tab.
    await postSignedToApp(
      `${h.url}/slack/events`,
      SIGNING_SECRET,
      JSON.stringify(appHomeOpenedEvent("U0LEAD1", "D0LEAD1")),
      "application/json",
    );
    await h.slack.waitFor((s) => s.callsTo("views.publish")[0]);
  });

  it("SLACK_TEAM_ID=T0OTHER,T0THIRD → those workspaces are answered and the token's own (T0TEST) is not", async () => {
    const h = await cleanups.harness({ teamIds: ["T0OTHER", "T0THIRD"] });
    const a = await createPosted(h);
    const b = await createPosted(h);
    await approveFrom(h, a, { team: "T0TEST" });
    await untouched(h, a);
    await approveFrom(h, a, { team: "T0THIRD" });
    await eventually(async () => (await row(h, a)).status === "approved");
    await approveFrom(h, b, { team: "T0OTHER" });
    await eventually(async () => (await row(h, b)).status === "approved");
    await h.settle();
  });

  it("auth.test unreachable at start-up → asked again on the first interaction; while Slack cannot say which workspace is installed, nothing is answered", async () => {
    const slack = await cleanups.fakeSlack();
    slack.failNext("auth.test", { error: "internal_error", times: 3 });
    const h = await cleanups.harness({ slack });
    const id = await createPosted(h);
    // auth.test fails once more on this click (authorize), and again in the guard: refused.
    expect((await approveFrom(h, id, { team: "T0TEST" })).status).toBe(200);
    await untouched(h, id);
    expect(h.logs.join("")).toContain("the installed workspace is unknown");
    // Slack answers auth.test again: the next click learns the team and counts.
    await approveFrom(h, id, { team: "T0TEST" });
    await eventually(async () => (await row(h, id)).status === "approved");
    await h.settle();
  });
});
