import { afterEach, describe, expect, it } from "vitest";
import { signSlackRequest } from "../../src/fake-slack/slack-requests.ts";
import { eventually, type Harness, REFUND, SIGNING_SECRET, startHarness } from "../support/harness.ts";

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

/** POSTs a body to /slack/events signed the way Slack signs it. */
async function signed(body: string, contentType: string): Promise<{ status: number; text: string }> {
  const headers = {
    "content-type": contentType,
    ...signSlackRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000)),
  };
  const res = await fetch(`${h.url}/slack/events`, { method: "POST", headers, body });
  return { status: res.status, text: await res.text() };
}

const command = (user: string, text: string) =>
  signed(
    new URLSearchParams({
      token: "legacy",
      team_id: "T0TEST",
      team_domain: "test",
      channel_id: "C0SUPPORT",
      channel_name: "support",
      user_id: user,
      user_name: user.toLowerCase(),
      command: "/countersign",
      text,
      api_app_id: "A0TEST",
      response_url: "http://127.0.0.1:9/unused",
      trigger_id: "1.2.3",
    }).toString(),
    "application/x-www-form-urlencoded",
  );

describe("/countersign and the Home tab", () => {
  it("/countersign by an approver with one pending request → ephemeral list naming it", async () => {
    h = await startHarness();
    const { json } = await h.create(REFUND);
    const res = await command("U0LEAD1", "");
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text);
    expect(body.response_type).toBe("ephemeral");
    expect(body.text).toBe("1 request waiting for your decision");
    expect(JSON.stringify(body.blocks)).toContain(json.id);
  });

  it("/countersign by someone who approves nothing → nothing waiting", async () => {
    h = await startHarness();
    await h.create(REFUND);
    const body = JSON.parse((await command("U0STRANGER", "pending")).text);
    expect(body.text).toBe("Nothing is waiting for your decision.");
  });

  it("/countersign req_… → its status for an approver, not found for a stranger", async () => {
    h = await startHarness();
    const { json } = await h.create(REFUND);
    const mine = JSON.parse((await command("U0LEAD2", json.id)).text);
    expect(mine.text).toContain("Status: *pending*");
    const theirs = JSON.parse((await command("U0STRANGER", json.id)).text);
    expect(theirs.text).toContain("that you can see");
    const usage = JSON.parse((await command("U0LEAD2", "help me")).text);
    expect(usage.text).toContain("Usage");
  });

  it("app_home_opened → views.publish of the pending list for that user", async () => {
    h = await startHarness();
    const { json } = await h.create(REFUND);
    const event = {
      token: "legacy",
      team_id: "T0TEST",
      api_app_id: "A0TEST",
      type: "event_callback",
      event_id: "Ev0001",
      event_time: Math.floor(Date.now() / 1000),
      event: { type: "app_home_opened", user: "U0LEAD1", channel: "D0LEAD1", tab: "home", event_ts: "1.2" },
      authorizations: [{ team_id: "T0TEST", user_id: "UBOT", is_bot: true }],
    };
    expect((await signed(JSON.stringify(event), "application/json")).status).toBe(200);
    const home = await eventually(() => h.slack.workspace.home("U0LEAD1"));
    expect(home.type).toBe("home");
    expect(JSON.stringify(home.blocks)).toContain(json.id);
  });

  it("/countersign while Slack fails the user group lookup → the lookup failure is logged with context, the list still answers", async () => {
    // Failing since start-up: no member list was ever fetched.
    h = await startHarness({
      usergroups: { S0LEADS: ["U0GROUP1"] },
      beforeStart: (slack) => slack.failNext("usergroups.users.list", { error: "internal_error", times: 6 }),
    });
    await h.create(REFUND);
    // U0STRANGER is named in no role, so only the user group lookup could make them an approver.
    const body = JSON.parse((await command("U0STRANGER", "")).text);
    expect(body.text).toBe("Nothing is waiting for your decision.");
    const line = h.logs.find((l) => l.includes("usergroup lookup failed"));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ usergroup: "S0LEADS", user: "U0STRANGER" });
  });
});
