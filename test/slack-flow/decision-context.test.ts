import { afterEach, describe, expect, it } from "vitest";
import { signSlackRequest } from "../../src/fake-slack/slack-requests.ts";
import { openDatabase } from "../../src/storage/sqlite/open.ts";
import { historyStatement } from "../../src/storage/sqlite/store.ts";
import { TEST_CONFIG_YAML, testConfig } from "../support/config.ts";
import { eventually, type Harness, REFUND, SIGNING_SECRET, startHarness } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";
import { channelMessage, createPosted, LARGE_REFUND, row } from "./helpers.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

type Context = { block_id?: string; elements?: { text: string }[] };
async function whyBlock(harness: Harness, id: string): Promise<string[]> {
  const blocks = ((await channelMessage(harness, id)).blocks ?? []) as Context[];
  return blocks.find((b) => b.block_id === "why")?.elements?.map((e) => e.text) ?? [];
}

describe("Context to decide in seconds", () => {
  it("the evidence pack says why a human is needed: the matched policy and the conditions that held", async () => {
    h = await startHarness();
    const medium = await createPosted(h);
    expect((await whyBlock(h, medium))[0]).toBe(
      "*Why a human:* policy `medium-refunds` — action refund.issue matches refund.*, params.amount 75 ≤ 200",
    );
    const large = await createPosted(h, LARGE_REFUND);
    expect((await whyBlock(h, large))[0]).toBe(
      "*Why a human:* policy `large-refunds` — action refund.issue matches refund.*",
    );
  });

  it("the agent's history for the same action in the 24 h before: counted by outcome, other actions and older requests left out", async () => {
    h = await startHarness();
    const old = await h.create(REFUND);
    expect(old.status).toBe(201);
    h.clock.advance(25 * 3_600_000); // older than the window
    await h.create({ ...REFUND, params: { ...REFUND.params, amount: 10 } }); // approved by policy
    const rejected = await createPosted(h);
    await h.submitReject("U0LEAD1", rejected, "no");
    await eventually(async () => (await row(h!, rejected)).status === "rejected");
    const cancelled = await createPosted(h);
    await h.api("POST", `/v1/requests/${cancelled}/cancel`, {});
    await createPosted(h); // still pending
    await h.create({ ...REFUND, action: "refund.partial" }); // another action

    const id = await createPosted(h);
    expect((await whyBlock(h, id))[1]).toBe(
      "*History:* support-bot: 4 refund.issue in 24 h — 1 approved, 1 rejected, 1 cancelled, 1 pending",
    );
  });

  it("a first request says so", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    expect((await whyBlock(h, id))[1]).toBe("*History:* support-bot: 0 refund.issue in 24 h before this one");
  });

  // SQLite's query plan (EXPLAIN QUERY PLAN through the SQLite store).
  it.skipIf(onPostgres)(
    "the history query reads the (agent, action, created_at) index, not the table",
    async () => {
      const database = openDatabase(":memory:");
      h = await startHarness({ database });
      const query = historyStatement(database.db).getQuery().sql;
      const plan = (
        database.sqlite.prepare(`EXPLAIN QUERY PLAN ${query}`).all("a", "b", 0, 1, "x") as {
          detail: string;
        }[]
      )
        .map((r) => r.detail)
        .join("\n");
      expect(plan).toContain("requests_agent_action_created");
      expect(plan).not.toMatch(/SCAN requests\b(?! USING)/);
    },
  );
});

async function openHome(harness: Harness, user: string): Promise<void> {
  const event = {
    token: "legacy",
    team_id: "T0TEST",
    api_app_id: "A0TEST",
    type: "event_callback",
    event_id: `Ev${Date.now()}`,
    event_time: Math.floor(Date.now() / 1000),
    event: { type: "app_home_opened", user, channel: `D${user}`, tab: "home", event_ts: "1.2" },
    authorizations: [{ team_id: "T0TEST", user_id: "UBOT", is_bot: true }],
  };
  const body = JSON.stringify(event);
  const headers = {
    "content-type": "application/json",
    ...signSlackRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000)),
  };
  const res = await fetch(`${harness.url}/slack/events`, { method: "POST", headers, body });
  expect(res.status).toBe(200);
}

describe("App Home queue", () => {
  it("lists the viewer's pending requests across roles, oldest first, with time left and a link to each message", async () => {
    const yaml = TEST_CONFIG_YAML.replace(
      "approvers: [U0FIN1, U0FIN2, U0FIN3]",
      "approvers: [U0FIN1, U0FIN2, U0FIN3, U0LEAD1]",
    );
    h = await startHarness({ config: testConfig(yaml) });
    const first = await createPosted(h);
    h.clock.advance(60_000);
    const second = await createPosted(h, LARGE_REFUND);
    h.clock.advance(60_000);
    const third = await createPosted(h);
    h.clock.advance(60_000);

    await openHome(h, "U0LEAD1");
    const home = await eventually(() => h!.slack.workspace.home("U0LEAD1"));
    const text = JSON.stringify(home.blocks);
    const at = (id: string) => text.indexOf(id);
    expect(at(first)).toBeGreaterThan(-1);
    expect(at(first)).toBeLessThan(at(second));
    expect(at(second)).toBeLessThan(at(third));
    expect(text).toContain("(27m left)");
    const r = await row(h, first);
    expect(text).toContain(
      `in <#C0SUPPORT> · <https://slack.com/archives/${r.slackChannel}/p${r.slackTs?.replace(".", "")}|open message>`,
    );
    expect(text).toContain("in <#C0FINANCE> · <https://slack.com/archives/");
    // No entity inside a link's label: Slack's mrkdwn cannot nest them (`<url|… <#C…>>`).
    expect(text).not.toMatch(/<[^<>|]+\|[^<>]*</);
  });
});
