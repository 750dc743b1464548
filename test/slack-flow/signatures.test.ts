import { afterEach, describe, expect, it } from "vitest";
import {
  blockActionsPayload,
  encodeInteraction,
  postToApp,
  signSlackRequest,
  viewSubmissionPayload,
} from "../../src/fake-slack/slack-requests.ts";
import { eventually, type Harness, SIGNING_SECRET, startHarness } from "../support/harness.ts";
import { auditEvents, createPosted, pause, row, snapshot } from "./helpers.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

function approvePayload(id: string, ts: string) {
  return blockActionsPayload({
    user: { id: "U0LEAD1", username: "lead.one" },
    actionId: "approve",
    value: id,
    channelId: "C0SUPPORT",
    messageTs: ts,
  });
}

const nowSec = () => Math.floor(Date.now() / 1000);

describe("Slack request signatures", () => {
  it.each([
    ["a forged signature", { signature: `v0=${"0".repeat(64)}` }, SIGNING_SECRET],
    ["a signature made with another secret", {}, "not-the-signing-secret"],
    ["a stale timestamp (10 minutes old)", { timestampSec: nowSec() - 600 }, SIGNING_SECRET],
    ["a timestamp 10 minutes in the future", { timestampSec: nowSec() + 600 }, SIGNING_SECRET],
    ["a timestamp 5 minutes and 30 s in the future", { timestampSec: nowSec() + 330 }, SIGNING_SECRET],
    ["no signature headers", { signature: null }, SIGNING_SECRET],
  ] as const)("pending + approve click with %s → 401, nothing changes", async (_name, opts, secret) => {
    h = await startHarness();
    const id = await createPosted(h);
    const before = await snapshot(h, id);
    const events = await auditEvents(h, id);
    const calls = h.slack.calls.length;

    const res = await postToApp(
      `${h.url}/slack/events`,
      secret,
      approvePayload(id, (await row(h, id)).slackTs!),
      {
        ...opts,
      },
    );
    expect(res.status).toBe(401);
    await pause();
    expect(await snapshot(h, id)).toEqual(before);
    expect(await auditEvents(h, id)).toEqual(events);
    expect(h.slack.calls.slice(calls)).toEqual([]);
    expect(h.slack.ephemerals()).toHaveLength(0);
  });

  it("pending + reject submission with a forged signature → 401, nothing changes; the same submission signed → rejected", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    const payload = viewSubmissionPayload({
      user: { id: "U0LEAD1" },
      callbackId: "reject",
      privateMetadata: id,
      values: { reason: { reason: { type: "plain_text_input", value: "nope" } } },
    });
    const forged = await postToApp(`${h.url}/slack/events`, SIGNING_SECRET, payload, {
      signature: `v0=${"a".repeat(64)}`,
    });
    expect(forged.status).toBe(401);
    await pause();
    expect((await row(h, id)).status).toBe("pending");

    const signed = await postToApp(`${h.url}/slack/events`, SIGNING_SECRET, payload);
    expect(signed.status).toBe(200);
    await eventually(async () => (await row(h!, id)).status === "rejected");
  });

  it("pending + the same approve click correctly signed → 200 and approved (the 401s above are the signature's doing)", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    const res = await postToApp(
      `${h.url}/slack/events`,
      SIGNING_SECRET,
      approvePayload(id, (await row(h, id)).slackTs!),
    );
    expect(res.status).toBe(200);
    await eventually(async () => (await row(h!, id)).status === "approved");
  });

  it("pending + approve click signed 4 minutes ahead (clock skew inside the window) → 200 and approved", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    const res = await postToApp(
      `${h.url}/slack/events`,
      SIGNING_SECRET,
      approvePayload(id, (await row(h, id)).slackTs!),
      {
        timestampSec: nowSec() + 240,
      },
    );
    expect(res.status).toBe(200);
    await eventually(async () => (await row(h!, id)).status === "approved");
  });

  it("a signed request whose body was altered in transit → 401, nothing changes", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    const other = await createPosted(h);
    const ts = nowSec();
    const signedBody = encodeInteraction(approvePayload(other, (await row(h, other)).slackTs!));
    const headers = signSlackRequest(SIGNING_SECRET, signedBody, ts);
    const tampered = encodeInteraction(approvePayload(id, (await row(h, id)).slackTs!));
    const res = await fetch(`${h.url}/slack/events`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: tampered,
    });
    expect(res.status).toBe(401);
    await pause();
    expect((await row(h, id)).status).toBe("pending");
    expect((await row(h, other)).status).toBe("pending");
  });
});
