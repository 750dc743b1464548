import { once } from "node:events";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { blockActionsPayload, postToApp } from "../../src/fake-slack/slack-requests.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { FakeClock } from "../support/clock.ts";
import { TOKENS } from "../support/config.ts";
import { crashChildUrl, spawnCrashChild } from "../support/crash-child.ts";
import {
  eventually,
  type Harness,
  type HarnessOptions,
  postgresUrlFor,
  REFUND,
  SIGNING_SECRET,
  startHarness,
  tempDir,
} from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";
import {
  auditRows,
  channelMessage,
  createPosted,
  hasButtons,
  pause,
  row,
  startHangingSlack,
} from "./helpers.ts";

const running = new Set<Harness>();
const cleanups: (() => Promise<void> | void)[] = [];

async function start(options: HarnessOptions = {}): Promise<Harness> {
  const h = await startHarness(options);
  running.add(h);
  return h;
}
async function stop(h: Harness): Promise<void> {
  running.delete(h);
  await h.stop();
}

afterEach(async () => {
  for (const h of [...running]) await stop(h);
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDb(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return join(dir, "countersign.db");
}

const postCalls = (h: Harness) => h.slack.callsTo("chat.postMessage");
const topLevel = (slack: FakeSlack, channel: string) =>
  slack.messages(channel).filter((m) => m.thread_ts === undefined);

describe("Slack rate limits and failures delay a message, never lose or double it", () => {
  it("post answered 429 Retry-After 1 → channel paused on the service clock, retried after 1 s → exactly one message, two postMessage calls", async () => {
    const h = await start();
    h.slack.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    const created = await h.create();
    expect(created.status).toBe(201);
    const id = created.json.id as string;

    await h.slack.waitFor((s) => s.callsTo("chat.postMessage").length === 1);
    expect(postCalls(h)[0]?.status).toBe(429);
    // A second request for the same channel waits behind the pause too.
    const second = (await h.create({ ...REFUND, summary: "Second refund" })).json.id as string;
    await pause(200);
    expect(postCalls(h)).toHaveLength(1);
    expect(h.slack.messages("C0SUPPORT")).toHaveLength(0);

    h.clock.advance(999);
    await pause(200);
    expect(postCalls(h)).toHaveLength(1);

    h.clock.advance(1);
    await h.slack.waitFor((s) => s.messages("C0SUPPORT").length === 1);
    // After a 429 the channel is paced at one call per second: the second waits its turn.
    await pause(200);
    expect(h.slack.messages("C0SUPPORT")).toHaveLength(1);
    h.clock.advance(1000);
    await h.slack.waitFor((s) => s.messages("C0SUPPORT").length === 2);
    await h.settle();
    await pause(100);
    expect(postCalls(h)).toHaveLength(3);
    expect(postCalls(h).map((c) => c.status)).toEqual([429, 200, 200]);
    const messages = h.slack.messages("C0SUPPORT");
    expect(messages).toHaveLength(2);
    expect((await row(h, id)).slackTs).toBe(messages[0]?.ts);
    expect((await row(h, second)).slackTs).toBe(messages[1]?.ts);
    expect(await auditRows(h, id, "posted")).toHaveLength(1);
    expect(await auditRows(h, second, "posted")).toHaveLength(1);
  });

  it("post answered HTTP 500 → retried with backoff on the service clock → posted exactly once", async () => {
    const h = await start();
    h.slack.failNext("chat.postMessage", { status: 500 });
    const id = (await h.create()).json.id as string;
    await h.slack.waitFor((s) => s.callsTo("chat.postMessage").length === 1);
    await pause(200);
    expect(postCalls(h)).toHaveLength(1);
    expect((await row(h, id)).slackTs).toBeNull();

    h.clock.advance(1_300); // first backoff is 1 s ± 25 %
    await h.slack.waitFor((s) => s.messages("C0SUPPORT").length === 1);
    await h.settle();
    await pause(100);
    expect(postCalls(h).map((c) => c.status)).toEqual([500, 200]);
    expect(h.slack.messages("C0SUPPORT")).toHaveLength(1);
    expect((await row(h, id)).slackTs).toBe(h.slack.messages("C0SUPPORT")[0]?.ts);
    expect(await auditRows(h, id, "posted")).toHaveLength(1);
  });

  it("post answered ok:false internal_error three times → retried with growing backoff → posted exactly once", async () => {
    const h = await start();
    h.slack.failNext("chat.postMessage", { error: "internal_error", times: 3 });
    const id = (await h.create()).json.id as string;
    for (let attempt = 1; attempt <= 3; attempt++) {
      await h.slack.waitFor((s) => s.callsTo("chat.postMessage").length === attempt);
      h.clock.advance(1_250 * 2 ** (attempt - 1));
    }
    await h.slack.waitFor((s) => s.messages("C0SUPPORT").length === 1);
    await h.settle();
    await pause(100);
    expect(postCalls(h)).toHaveLength(4);
    expect(h.slack.messages("C0SUPPORT")).toHaveLength(1);
    expect(await auditRows(h, id, "posted")).toHaveLength(1);
  });

  it("approved + chat.update answered 429 Retry-After 2 → updated once after 2 s on the service clock", async () => {
    const h = await start();
    const id = await createPosted(h);
    h.slack.failNext("chat.update", { status: 429, retryAfter: 2 });
    await h.click("U0LEAD1", "approve", id);
    await h.slack.waitFor((s) => s.callsTo("chat.update").length === 1);
    await pause(200);
    expect((await channelMessage(h, id)).updates).toBe(0);
    h.clock.advance(2_000);
    await h.slack.waitFor((s) => s.messages("C0SUPPORT")[0]?.updates === 1);
    await h.settle();
    await pause(100);
    expect(h.slack.callsTo("chat.update").map((c) => c.status)).toEqual([429, 200]);
    expect((await channelMessage(h, id)).updates).toBe(1);
    expect(hasButtons(await channelMessage(h, id))).toBe(false);
  });

  it("refusal ephemeral that Slack rejects for good (user_not_found) → dropped and audited, the request's later updates still go out", async () => {
    const slack = await startFakeSlack({
      validateBlocks: (b) => validateMessage(b),
      strictUsers: true,
      users: {
        U0LEAD1: { name: "lead.one", real_name: "Lead One" },
        U0LEAD2: { name: "lead.two", real_name: "Lead Two" },
      },
      usergroups: { S0LEADS: [] },
    });
    cleanups.push(() => slack.close());
    const h = await start({ slack });
    const id = await createPosted(h);

    // A guest Slack will not show an ephemeral to: the refusal cannot be delivered.
    await h.click("U0GUEST", "approve", id);
    await h.slack.waitFor((s) => s.callsTo("chat.postEphemeral").length === 1);
    expect(h.slack.callsTo("chat.postEphemeral")[0]?.response.error).toBe("user_not_found");

    await h.click("U0LEAD1", "approve", id);
    await eventually(async () => (await row(h, id)).status === "approved");
    await h.slack.waitFor((s) => s.messages("C0SUPPORT")[0]?.updates === 1, 3000);
    await h.settle();
    expect(hasButtons(await channelMessage(h, id))).toBe(false);
    expect(await auditRows(h, id, "slack_dropped")).toHaveLength(1);
    expect(h.slack.callsTo("chat.postEphemeral")).toHaveLength(1);
  });
});

describe("Slack refusing a call for good", () => {
  it("first post answered channel_not_found (bot not in the channel yet) → kept and retried, posted once when Slack accepts it", async () => {
    const h = await start();
    h.slack.failNext("chat.postMessage", { error: "channel_not_found", times: 2 });
    const id = (await h.create()).json.id as string;
    await h.slack.waitFor((s) => s.callsTo("chat.postMessage").length === 1);
    h.clock.advance(1_300);
    await h.slack.waitFor((s) => s.callsTo("chat.postMessage").length === 2);
    h.clock.advance(2_600);
    await h.slack.waitFor((s) => s.messages("C0SUPPORT").length === 1);
    await h.settle();
    expect(postCalls(h).map((c) => c.response.error ?? "ok")).toEqual([
      "channel_not_found",
      "channel_not_found",
      "ok",
    ]);
    expect(await auditRows(h, id, "slack_dropped")).toHaveLength(0);
    expect(await auditRows(h, id, "posted")).toHaveLength(1);
  });

  it("approved + chat.update answered message_not_found (message deleted in Slack) → dropped and audited; a later late-click ephemeral still goes out", async () => {
    const h = await start();
    const id = await createPosted(h);
    h.slack.failNext("chat.update", { error: "message_not_found" });
    await h.click("U0LEAD1", "approve", id);
    await h.slack.waitFor((s) => s.callsTo("chat.update").length === 1);
    await h.settle();
    expect(JSON.parse((await auditRows(h, id, "slack_dropped"))[0]?.detail ?? "{}")).toEqual({
      kind: "update",
      error: "message_not_found",
    });

    await h.click("U0LEAD2", "approve", id);
    const late = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD2")[0]);
    expect(late.text).toContain("already approved by <@U0LEAD1>");
    await h.settle();
    expect((await row(h, id)).status).toBe("approved");
  });
});

describe("a stop or crash between the state change and the post", () => {
  it("Slack failing, service stopped with the post queued, restarted on the same database → posted exactly once, and not again on the next restart", async () => {
    const dbPath = tempDb();
    const clock = new FakeClock();
    const h1 = await start({ dbPath, clock });
    h1.slack.failNext("chat.postMessage", { status: 503, times: 1_000 });
    const created = await h1.create();
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    await h1.slack.waitFor((s) => s.callsTo("chat.postMessage").length >= 1);
    await stop(h1);
    expect(h1.slack.messages("C0SUPPORT")).toHaveLength(0);

    const h2 = await start({ dbPath, clock });
    expect((await row(h2, id)).slackTs).toBeNull();
    clock.advance(2_000); // past the first backoff
    await h2.slack.waitFor((s) => s.messages("C0SUPPORT").length === 1);
    await h2.settle();
    await pause(100);
    expect(postCalls(h2)).toHaveLength(1);
    const message = h2.slack.messages("C0SUPPORT")[0]!;
    expect((await row(h2, id)).slackTs).toBe(message.ts);
    expect(await auditRows(h2, id, "posted")).toHaveLength(1);
    expect(await auditRows(h2, id, "created")).toHaveLength(1);
    await stop(h2);

    const h3 = await start({ dbPath, clock });
    clock.advance(10_000);
    await pause(200);
    expect(postCalls(h3)).toHaveLength(0);
    expect(await h3.service.deps.store.outboxDepth()).toBe(0);
  });

  it("Slack unreachable (fake stopped), service stopped, restarted with Slack back → posted exactly once", async () => {
    const dbPath = tempDb();
    const clock = new FakeClock();
    const gone = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
    const h1 = await start({ dbPath, clock, slack: gone });
    await gone.close();
    const id = (await h1.create()).json.id as string;
    await eventually(() => h1.logs.some((l) => l.includes("Slack call failed")));
    await stop(h1);

    const h2 = await start({ dbPath, clock });
    clock.advance(2_000);
    await h2.slack.waitFor((s) => s.messages("C0SUPPORT").length === 1);
    await h2.settle();
    await pause(100);
    expect(postCalls(h2)).toHaveLength(1);
    expect((await row(h2, id)).slackTs).toBe(h2.slack.messages("C0SUPPORT")[0]?.ts);
  });

  it("kill -9 while chat.postMessage hangs (after 201 to the agent and 200 to a click) → restarted in process: every request posted once, the approval kept", async () => {
    const dbPath = tempDb();
    const hanging = await startHangingSlack();
    cleanups.push(() => hanging.close());
    const startMs = Date.parse("2026-11-22T10:00:00.000Z");
    // On PostgreSQL the child claims the hanging post with a lease (on its clock) that its successor waits out.
    const leaseMs = 10_000;
    const child = onPostgres
      ? spawnCrashChild(await postgresUrlFor(dbPath), hanging.url, startMs, leaseMs)
      : spawnCrashChild(dbPath, hanging.url, startMs);
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    const url = await crashChildUrl(child);

    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/v1/requests`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKENS.support}`, "content-type": "application/json" },
        body: JSON.stringify({ ...REFUND, summary: `Refund number ${i}` }),
      });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    // Slack shows the message but its answer hangs: countersign never learnt the ts. The approver
    // clicks; the click's message carries the metadata the post named the request with. Slack gets its 200.
    const clicked = await postToApp(
      `${url}/slack/events`,
      SIGNING_SECRET,
      blockActionsPayload({
        user: { id: "U0LEAD1", username: "lead.one" },
        actionId: "approve",
        value: ids[1]!,
        channelId: "C0SUPPORT",
        messageTs: "1.000100",
        message: { metadata: { event_type: "countersign_request", event_payload: { request_id: ids[1]! } } },
      }),
    );
    expect(clicked.status).toBe(200);
    await eventually(async () => {
      const res = await fetch(`${url}/v1/requests/${ids[1]}`, {
        headers: { authorization: `Bearer ${TOKENS.support}` },
      });
      return ((await res.json()) as { status: string }).status === "approved";
    });
    await eventually(() => hanging.received.includes("/api/chat.postMessage"));

    child.kill("SIGKILL");
    await once(child, "exit");
    expect(child.signalCode).toBe("SIGKILL");

    const h = await start({ dbPath, clock: new FakeClock(startMs + (onPostgres ? leaseMs : 0)) });
    await h.slack.waitFor((s) => topLevel(s, "C0SUPPORT").length === 3, 5000);
    await h.settle();
    await pause(150);
    const posts = postCalls(h).filter((c) => c.args.thread_ts === undefined);
    expect(posts).toHaveLength(3);
    const postedFor = posts.map(
      (c) => (c.args.metadata as { event_payload?: { request_id?: string } }).event_payload?.request_id,
    );
    expect([...postedFor].sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const r = await row(h, id);
      expect(r.slackTs).not.toBeNull();
      expect(await auditRows(h, id, "created")).toHaveLength(1);
      expect(await auditRows(h, id, "posted")).toHaveLength(1);
    }
    expect(await row(h, ids[1]!)).toMatchObject({ status: "approved", resolution: "approved_by_humans" });
    expect((await h.service.deps.store.decisionsFor(ids[1]!)).map((d) => d.approverId)).toEqual(["U0LEAD1"]);
    expect(hasButtons(await channelMessage(h, ids[1]!))).toBe(false);
    expect(JSON.stringify((await channelMessage(h, ids[1]!)).blocks)).toContain("Approved by <@U0LEAD1>");
    expect(hasButtons(await channelMessage(h, ids[0]!))).toBe(true);
  });
});
