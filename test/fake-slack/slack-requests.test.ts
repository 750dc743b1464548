import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, LogLevel } from "@slack/bolt";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import {
  blockActionsPayload,
  encodeInteraction,
  postToApp,
  signSlackRequest,
  viewSubmissionPayload,
} from "../../src/fake-slack/slack-requests.ts";

const SECRET = "test-signing-secret";

/** Computed here with node:crypto, independently of the code under test. */
const expectedSignature = (secret: string, ts: number, body: string) =>
  `v0=${createHmac("sha256", secret).update(`v0:${ts}:${body}`, "utf8").digest("hex")}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Captured = { headers: IncomingHttpHeaders; body: string; url: string };

async function captureServer(): Promise<{ base: string; received: Captured[] }> {
  const received: Captured[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      received.push({ headers: req.headers, body, url: req.url ?? "" });
      res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

describe("signSlackRequest", () => {
  it("matches an HMAC-SHA256 over v0:ts:body computed independently", () => {
    const body = "payload=%7B%22type%22%3A%22block_actions%22%7D";
    const headers = signSlackRequest(SECRET, body, 1_732_262_400);
    expect(headers).toEqual({
      "x-slack-signature": expectedSignature(SECRET, 1_732_262_400, body),
      "x-slack-request-timestamp": "1732262400",
    });
    expect(headers["x-slack-signature"]).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(signSlackRequest("other", body, 1_732_262_400)["x-slack-signature"]).not.toBe(
      headers["x-slack-signature"],
    );
    expect(signSlackRequest(SECRET, body, 1_732_262_401)["x-slack-signature"]).not.toBe(
      headers["x-slack-signature"],
    );
  });
});

describe("interaction payloads", () => {
  it("blockActionsPayload → the block_actions shape Slack sends", () => {
    const p = blockActionsPayload({
      user: { id: "U1", name: "ada" },
      actionId: "reject",
      value: "req_1",
      channelId: "C0APPROVALS",
      messageTs: "1732262400.000100",
      triggerId: "trig",
      responseUrl: "http://127.0.0.1:1/respond",
    });
    expect(p).toMatchObject({
      type: "block_actions",
      user: { id: "U1", username: "ada", name: "ada", team_id: "T0TEST" },
      container: {
        type: "message",
        message_ts: "1732262400.000100",
        channel_id: "C0APPROVALS",
        is_ephemeral: false,
      },
      trigger_id: "trig",
      team: { id: "T0TEST" },
      channel: { id: "C0APPROVALS" },
      message: { ts: "1732262400.000100", type: "message" },
      state: { values: {} },
      response_url: "http://127.0.0.1:1/respond",
      actions: [
        {
          type: "button",
          action_id: "reject",
          value: "req_1",
          style: "danger",
          text: { type: "plain_text" },
        },
      ],
    });
    expect(typeof p.api_app_id).toBe("string");
    expect(typeof p.token).toBe("string");
    const dm = blockActionsPayload({
      user: { id: "U2" },
      actionId: "approve",
      value: "r",
      channelId: "DU2",
      messageTs: "1.1",
      isDm: true,
    });
    expect(dm).toMatchObject({ channel: { name: "directmessage" }, actions: [{ style: "primary" }] });
    expect(dm.trigger_id).not.toBe(
      blockActionsPayload({
        user: { id: "U2" },
        actionId: "approve",
        value: "r",
        channelId: "DU2",
        messageTs: "1.1",
      }).trigger_id,
    );
  });

  it("viewSubmissionPayload → view_submission with state values and private_metadata", () => {
    const values = { reason: { reason: { type: "plain_text_input" as const, value: "too risky" } } };
    const p = viewSubmissionPayload({
      user: { id: "U1" },
      callbackId: "reject",
      privateMetadata: "req_1",
      values,
      viewId: "V1",
    });
    expect(p).toMatchObject({
      type: "view_submission",
      user: { id: "U1", team_id: "T0TEST" },
      view: { id: "V1", type: "modal", callback_id: "reject", private_metadata: "req_1", state: { values } },
      response_urls: [],
    });
  });

  it("encodeInteraction → payload=<urlencoded JSON> that decodes back", () => {
    const payload = { type: "block_actions", text: "a&b=c +ü" };
    const body = encodeInteraction(payload);
    expect(body.startsWith("payload=")).toBe(true);
    expect(body).not.toContain("&b=");
    expect(JSON.parse(new URLSearchParams(body).get("payload")!)).toEqual(payload);
  });
});

describe("postToApp", () => {
  it("signed → form content-type, signature valid over the exact body; /slack/events added to a bare base", async () => {
    const { base, received } = await captureServer();
    const res = await postToApp(base, SECRET, { type: "block_actions" }, { timestampSec: 1_700_000_000 });
    expect(res).toMatchObject({ status: 200, json: { received: true } });
    expect(res.ms).toBeGreaterThanOrEqual(0);
    const [got] = received;
    expect(got?.url).toBe("/slack/events");
    expect(got?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(got?.headers["x-slack-request-timestamp"]).toBe("1700000000");
    expect(got?.headers["x-slack-signature"]).toBe(expectedSignature(SECRET, 1_700_000_000, got!.body));
    expect(got?.body).toBe(encodeInteraction({ type: "block_actions" }));
  });

  it("forged and unsigned → the forged header, or no signature headers at all", async () => {
    const { base, received } = await captureServer();
    await postToApp(`${base}/custom/path`, SECRET, {}, { signature: "v0=deadbeef" });
    await postToApp(base, SECRET, {}, { signature: null });
    expect(received[0]?.url).toBe("/custom/path");
    expect(received[0]?.headers["x-slack-signature"]).toBe("v0=deadbeef");
    expect(received[1]?.headers).not.toHaveProperty("x-slack-signature");
    expect(received[1]?.headers).not.toHaveProperty("x-slack-request-timestamp");
  });

  it("against a real bolt App: signed click → listener runs; forged or stale → 401", async () => {
    const fake: FakeSlack = await startFakeSlack();
    cleanups.push(() => fake.close());
    const app = new App({
      signingSecret: SECRET,
      token: "xoxb-test",
      clientOptions: { slackApiUrl: fake.url },
      logLevel: LogLevel.ERROR,
    });
    const clicks: { value: string | undefined; user: string }[] = [];
    app.action("approve", async ({ ack, body, action }) => {
      await ack();
      clicks.push({ value: "value" in action ? action.value : undefined, user: body.user.id });
    });
    const server = (await app.start({ port: 0, host: "127.0.0.1" })) as Server;
    cleanups.push(async () => {
      await app.stop();
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const payload = blockActionsPayload({
      user: { id: "U1" },
      actionId: "approve",
      value: "req_1",
      channelId: "C0APPROVALS",
      messageTs: "1732262400.000100",
    });

    expect((await postToApp(base, SECRET, payload)).status).toBe(200);
    expect(clicks).toEqual([{ value: "req_1", user: "U1" }]);
    expect((await postToApp(base, "wrong-secret", payload)).status).toBe(401);
    expect((await postToApp(base, SECRET, payload, { signature: null })).status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 10 * 60;
    expect((await postToApp(base, SECRET, payload, { timestampSec: stale })).status).toBe(401);
    expect(clicks).toHaveLength(1);
    expect(fake.callsTo("auth.test").length).toBeGreaterThan(0);
  });
});
