import { ErrorCode, type Logger, LogLevel, WebClient } from "@slack/web-api";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeSlack, type FakeSlackOptions, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import type { WorkspaceChange } from "../../src/fake-slack/workspace.ts";

const TOKEN = "xoxb-test";
const C = "C0APPROVALS";
const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });

/** The fake's invalid_* answers carry `[ERROR]` messages that WebClient logs; keep test output clean. */
const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

let fake: FakeSlack | undefined;

async function setup(opts: FakeSlackOptions = {}): Promise<{ fake: FakeSlack; client: WebClient }> {
  fake = await startFakeSlack(opts);
  const client = new WebClient(TOKEN, {
    slackApiUrl: fake.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: silent,
  });
  return { fake, client };
}

/** The rejection a WebClient call ends with. */
async function failure(
  p: Promise<unknown>,
): Promise<{ code?: string; data?: { error?: string } } & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string } & Record<string, unknown>;
  }
  throw new Error("expected the call to fail");
}

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe("fake Slack Web API driven by a real WebClient", () => {
  it("auth.test answers with the bot's ids on 127.0.0.1", async () => {
    const { fake, client } = await setup();
    expect(fake.url).toBe(`http://127.0.0.1:${fake.port}/api/`);
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, user_id: "UBOT", bot_id: "BBOT", team_id: "T0TEST" });
    expect(res.url).toMatch(/^https:\/\//);
  });

  it("chat.postMessage with blocks → stored with decoded blocks, ts strictly increasing", async () => {
    const { fake, client } = await setup();
    const blocks = [section("*Deploy* to prod"), { type: "divider" }];
    const metadata = { event_type: "approval_request", event_payload: { id: "req_1" } };
    const first = await client.chat.postMessage({ channel: C, text: "Deploy to prod", blocks, metadata });
    const second = await client.chat.postMessage({ channel: C, text: "second" });
    expect(first.ok).toBe(true);
    expect(first.channel).toBe(C);
    expect(first.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    expect(first.message?.blocks).toEqual(blocks);

    const [stored, next] = fake.messages(C);
    expect(stored).toMatchObject({
      ts: first.ts,
      channel: C,
      text: "Deploy to prod",
      blocks,
      metadata,
      updates: 0,
    });
    expect(next?.ts).toBe(second.ts);
    const call = fake.callsTo("chat.postMessage")[0]!;
    expect(call.args.blocks).toEqual(blocks);
    expect(call.args.metadata).toEqual(metadata);
    expect(call.args).not.toHaveProperty("token");
    expect(call.response).toMatchObject({ ok: true, ts: first.ts });
  });

  it("frozen clock → ts still unique and strictly increasing, based on the clock", async () => {
    const { fake, client } = await setup({ now: () => 1_732_262_400_000 });
    for (let i = 0; i < 3; i++) await client.chat.postMessage({ channel: C, text: `m${i}` });
    await client.chat.postEphemeral({ channel: C, user: "U1", text: "e" });
    const tss = [...fake.messages(C).map((m) => m.ts), fake.ephemerals(C)[0]!.message_ts];
    expect(tss[0]).toBe("1732262400.000000");
    expect(tss.map(Number)).toEqual([...tss.map(Number)].sort((a, b) => a - b));
    expect(new Set(tss).size).toBe(4);
  });

  it("chat.update → same message changed in place, versions kept; unknown ts → message_not_found", async () => {
    const { fake, client } = await setup();
    const posted = await client.chat.postMessage({
      channel: C,
      text: "pending",
      blocks: [section("pending")],
    });
    await client.chat.update({ channel: C, ts: posted.ts!, text: "approved", blocks: [section("approved")] });
    const messages = fake.messages(C);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      ts: posted.ts,
      text: "approved",
      blocks: [section("approved")],
      updates: 1,
    });
    expect(messages[0]!.history.map((v) => v.text)).toEqual(["pending", "approved"]);

    const err = await failure(client.chat.update({ channel: C, ts: "1.000001", text: "x" }));
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect(err.data?.error).toBe("message_not_found");
  });

  it("thread reply → listed under its parent; reply to an unknown parent → thread_not_found", async () => {
    const { fake, client } = await setup();
    const parent = await client.chat.postMessage({ channel: C, text: "request" });
    const reply = await client.chat.postMessage({
      channel: C,
      text: "escalated to <@UMGR>",
      thread_ts: parent.ts!,
    });
    expect(reply.message?.thread_ts).toBe(parent.ts);
    expect(fake.thread(C, parent.ts!).map((m) => m.text)).toEqual(["escalated to <@UMGR>"]);
    expect(fake.messages(C)).toHaveLength(2);

    const err = await failure(client.chat.postMessage({ channel: C, text: "x", thread_ts: "123.000001" }));
    expect(err.data?.error).toBe("thread_not_found");
  });

  it("conversations.open → stable D… channel per user that chat.postMessage accepts", async () => {
    const { fake, client } = await setup({ knownChannels: [C] });
    const opened = await client.conversations.open({ users: "UMGR" });
    const again = await client.conversations.open({ users: "UMGR" });
    const other = await client.conversations.open({ users: "UOTHER" });
    const dm = opened.channel!.id!;
    expect(dm).toMatch(/^D/);
    expect(again.channel?.id).toBe(dm);
    expect(other.channel?.id).not.toBe(dm);

    await client.chat.postMessage({ channel: dm, text: "please decide" });
    expect(fake.messages(dm).map((m) => m.text)).toEqual(["please decide"]);
    expect(fake.channels()).toContainEqual(expect.objectContaining({ id: dm, kind: "dm", user: "UMGR" }));
  });

  it("knownChannels given → other channels are channel_not_found", async () => {
    const { client } = await setup({ knownChannels: [C] });
    const err = await failure(client.chat.postMessage({ channel: "C0NOPE", text: "x" }));
    expect(err.data?.error).toBe("channel_not_found");
    await expect(client.chat.postMessage({ channel: C, text: "ok" })).resolves.toMatchObject({ ok: true });
  });

  it("usergroups.users.list → members from options and setUsergroup; unknown → no_such_subteam", async () => {
    const { fake, client } = await setup({ usergroups: { S0OPS: ["U1", "U2"] } });
    expect((await client.usergroups.users.list({ usergroup: "S0OPS" })).users).toEqual(["U1", "U2"]);
    fake.setUsergroup("S0OPS", ["U3"]);
    expect((await client.usergroups.users.list({ usergroup: "S0OPS" })).users).toEqual(["U3"]);
    const err = await failure(client.usergroups.users.list({ usergroup: "S0NOPE" }));
    expect(err.data?.error).toBe("no_such_subteam");
  });

  it("users.info → directory entry, or a name derived from the id", async () => {
    const { fake, client } = await setup({ users: { U1: { name: "ada", real_name: "Ada Lovelace" } } });
    const ada = await client.users.info({ user: "U1" });
    expect(ada.user).toMatchObject({ id: "U1", name: "ada", real_name: "Ada Lovelace" });
    expect(ada.user?.profile).toMatchObject({ display_name: "ada", real_name: "Ada Lovelace" });
    fake.setUser("U2", { name: "grace", real_name: "Grace Hopper" });
    expect((await client.users.info({ user: "U2" })).user?.real_name).toBe("Grace Hopper");
    expect((await client.users.info({ user: "U9ZZ" })).user).toMatchObject({ id: "U9ZZ", name: "u9zz" });
  });

  it("users.info with strictUsers → unknown user is user_not_found", async () => {
    const { client } = await setup({ strictUsers: true });
    const err = await failure(client.users.info({ user: "U9ZZ" }));
    expect(err.data?.error).toBe("user_not_found");
  });

  it("chat.postEphemeral → recorded per channel and user", async () => {
    const { fake, client } = await setup();
    const res = await client.chat.postEphemeral({ channel: C, user: "U7", text: "You are not an approver" });
    expect(res.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(fake.ephemerals(C, "U7")).toEqual([
      expect.objectContaining({ text: "You are not an approver", message_ts: res.message_ts }),
    ]);
    expect(fake.ephemerals(C, "U8")).toEqual([]);
    expect(fake.messages(C)).toEqual([]);
  });

  it("views.open → view recorded with an id; long title invalid; a trigger_id works once", async () => {
    const { fake, client } = await setup();
    const view = {
      type: "modal" as const,
      callback_id: "reject",
      private_metadata: "req_1",
      title: { type: "plain_text" as const, text: "Reject request" },
      submit: { type: "plain_text" as const, text: "Reject" },
      blocks: [
        {
          type: "input",
          block_id: "reason",
          label: { type: "plain_text", text: "Reason" },
          element: { type: "plain_text_input", action_id: "reason" },
        },
      ],
    };
    const res = await client.views.open({ trigger_id: "t1", view });
    expect(res.view?.id).toBe(fake.views[0]!.id);
    expect(fake.views[0]!.view).toMatchObject({ callback_id: "reject", private_metadata: "req_1" });

    const reused = await failure(client.views.open({ trigger_id: "t1", view }));
    expect(reused.data?.error).toBe("exchanged_trigger_id");
    const longTitle = { ...view, title: { type: "plain_text" as const, text: "x".repeat(25) } };
    const invalid = await failure(client.views.open({ trigger_id: "t2", view: longTitle }));
    expect(invalid.data?.error).toBe("invalid_arguments");
    expect(fake.views).toHaveLength(1);
  });

  it("blocks without type, over 50 blocks, or no text at all → rejected and nothing posted", async () => {
    const { fake, client } = await setup();
    const noType = await failure(
      client.chat.postMessage({ channel: C, text: "x", blocks: [{ text: "hi" } as never] }),
    );
    expect(noType.data?.error).toBe("invalid_blocks");
    const many = Array.from({ length: 51 }, () => ({ type: "divider" }));
    expect(
      (await failure(client.chat.postMessage({ channel: C, text: "x", blocks: many }))).data?.error,
    ).toBe("invalid_blocks");
    expect((await failure(client.chat.postMessage({ channel: C, text: "" }))).data?.error).toBe("no_text");
    expect(fake.messages(C)).toEqual([]);
    const fifty = Array.from({ length: 50 }, () => ({ type: "divider" }));
    await expect(client.chat.postMessage({ channel: C, text: "x", blocks: fifty })).resolves.toMatchObject({
      ok: true,
    });
  });

  it("validateBlocks option → its problems become invalid_blocks, total-text ones msg_blocks_too_long", async () => {
    const validateBlocks = (blocks: unknown[]): string[] =>
      JSON.stringify(blocks).includes("BAD")
        ? ["section text over 3000 chars at /blocks/0"]
        : JSON.stringify(blocks).includes("HUGE")
          ? ["total text over 12000 characters"]
          : [];
    const { fake, client } = await setup({ validateBlocks });
    const bad = await failure(client.chat.postMessage({ channel: C, text: "x", blocks: [section("BAD")] }));
    expect(bad.data).toMatchObject({
      error: "invalid_blocks",
      errors: ["section text over 3000 chars at /blocks/0"],
    });
    const huge = await failure(client.chat.postMessage({ channel: C, text: "x", blocks: [section("HUGE")] }));
    expect(huge.data?.error).toBe("msg_blocks_too_long");
    const posted = await client.chat.postMessage({ channel: C, text: "x", blocks: [section("fine")] });
    const upd = await failure(client.chat.update({ channel: C, ts: posted.ts!, blocks: [section("BAD")] }));
    expect(upd.data?.error).toBe("invalid_blocks");
    expect(fake.messages(C)[0]!.updates).toBe(0);
  });

  it("failNext 500 → WebClient HTTP error, nothing posted, next call succeeds", async () => {
    const { fake, client } = await setup();
    fake.failNext("chat.postMessage", { status: 500 });
    const err = await failure(client.chat.postMessage({ channel: C, text: "x" }));
    expect(err.code).toBe(ErrorCode.HTTPError);
    expect(err.statusCode).toBe(500);
    expect(fake.messages(C)).toEqual([]);
    await client.chat.postMessage({ channel: C, text: "x" });
    expect(fake.messages(C)).toHaveLength(1);
    expect(fake.callsTo("chat.postMessage").map((c) => c.status)).toEqual([500, 200]);
  });

  it("failNext 429 with retryAfter → slack_webapi_rate_limited_error carrying retryAfter", async () => {
    const { fake, client } = await setup();
    fake.failNext("chat.update", { status: 429, retryAfter: 7, times: 2 });
    const posted = await client.chat.postMessage({ channel: C, text: "x" });
    for (let i = 0; i < 2; i++) {
      const err = await failure(client.chat.update({ channel: C, ts: posted.ts!, text: "y" }));
      expect(err.code).toBe("slack_webapi_rate_limited_error");
      expect(err.retryAfter).toBe(7);
    }
    await client.chat.update({ channel: C, ts: posted.ts!, text: "y" });
    expect(fake.messages(C)[0]).toMatchObject({ text: "y", updates: 1 });
    expect(fake.stats.injectedFaults).toBe(2);
  });

  it("failNext with an error → HTTP 200 ok:false platform error", async () => {
    const { fake, client } = await setup();
    fake.failNext("users.info", { error: "fatal_error" });
    const err = await failure(client.users.info({ user: "U1" }));
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect(err.data?.error).toBe("fatal_error");
  });

  it("rateLimit mode → posts over the per-channel bucket get 429 Retry-After 1, counted; bucket refills", async () => {
    let now = 1_732_262_400_000;
    const { fake, client } = await setup({ now: () => now, rateLimit: { perChannelPerSecond: 1, burst: 2 } });
    const results: string[] = [];
    for (let i = 0; i < 5; i++) {
      results.push(
        await client.chat.postMessage({ channel: C, text: `m${i}` }).then(
          () => "ok",
          (e: { code?: string; retryAfter?: number }) => `${e.code}:${e.retryAfter}`,
        ),
      );
    }
    expect(results).toEqual(["ok", "ok", ...Array(3).fill("slack_webapi_rate_limited_error:1")]);
    expect(fake.stats.rateLimited).toBe(3);
    await expect(client.chat.postMessage({ channel: "C0OTHER", text: "x" })).resolves.toMatchObject({
      ok: true,
    });
    now += 1000;
    await expect(client.chat.postMessage({ channel: C, text: "later" })).resolves.toMatchObject({ ok: true });
    expect(fake.messages(C).map((m) => m.text)).toEqual(["m0", "m1", "later"]);
  });

  it("delayNext → a client that gives up still leaves the message posted (slow Slack)", async () => {
    const { fake } = await setup();
    const impatient = new WebClient(TOKEN, {
      slackApiUrl: fake.url,
      retryConfig: { retries: 0 },
      timeout: 50,
      logger: silent,
    });
    fake.delayNext("chat.postMessage", 200);
    const err = await failure(impatient.chat.postMessage({ channel: C, text: "slow" }));
    expect(err.code).toBe(ErrorCode.RequestError);
    const [message] = await fake.waitFor(
      (f) => (f.messages(C).length === 1 ? f.messages(C) : undefined),
      2000,
    );
    expect(message?.text).toBe("slow");
  });

  it("waitFor → resolves with the predicate's value after a later change; rejects on timeout", async () => {
    const { fake, client } = await setup();
    const waiting = fake.waitFor((f) => f.messages(C)[0]!.text, 2000);
    setTimeout(() => void client.chat.postMessage({ channel: C, text: "arrived" }), 20);
    await expect(waiting).resolves.toBe("arrived");
    await expect(fake.waitFor((f) => f.messages("C0EMPTY").length > 0, 50)).rejects.toThrow(
      /timed out after 50ms/,
    );
  });

  it("onChange → events for posts, updates, DMs and calls; reset clears state", async () => {
    const { fake, client } = await setup();
    const events: WorkspaceChange[] = [];
    const off = fake.onChange((e) => events.push(e));
    const posted = await client.chat.postMessage({ channel: C, text: "a" });
    await client.chat.update({ channel: C, ts: posted.ts!, text: "b" });
    await client.conversations.open({ users: "U5" });
    off();
    expect(events.map((e) => e.type)).toEqual([
      "message_posted",
      "api_call",
      "message_updated",
      "api_call",
      "dm_opened",
      "api_call",
    ]);
    fake.reset();
    expect(fake.calls).toEqual([]);
    expect(fake.messages(C)).toEqual([]);
    expect(fake.channels()).toEqual([]);
  });

  it("raw HTTP: JSON bodies accepted; missing token, unknown method and bad paths answered like Slack", async () => {
    const { fake } = await setup();
    const post = (method: string, body: unknown, headers: Record<string, string>) =>
      fetch(`${fake.url}${method}`, { method: "POST", headers, body: JSON.stringify(body) });
    const json = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
    const res = await post("chat.postMessage", { channel: C, text: "j", blocks: [section("j")] }, json);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, channel: C });
    expect(fake.messages(C)[0]!.blocks).toEqual([section("j")]);

    const unauthed = await post("auth.test", {}, { "content-type": "application/json" });
    expect(await unauthed.json()).toEqual({ ok: false, error: "not_authed" });
    expect(await (await post("chat.delete", {}, json)).json()).toMatchObject({
      ok: false,
      error: "unknown_method",
    });
    expect((await fetch(`http://127.0.0.1:${fake.port}/nope`)).status).toBe(404);
  });
});
