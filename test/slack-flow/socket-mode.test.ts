import { join } from "node:path";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { blockActionsPayload, viewSubmissionPayload } from "../../src/fake-slack/slack-requests.ts";
import { type PostgresDatabase, type Service, startService } from "../../src/service.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { openDatabase } from "../../src/storage/sqlite/open.ts";
import { TOKENS, testConfig } from "../support/config.ts";
import { eventually, REFUND, tempDir, testDatabase } from "../support/harness.ts";
import { freePort } from "../support/ports.ts";
import { freshPostgresUrl, onPostgres } from "../support/postgres.ts";
import { startDbProxy } from "../support/tcp-proxy.ts";

let service: Service | undefined;
let slack: FakeSlack | undefined;
afterEach(async () => {
  await service?.stop();
  await slack?.close();
  service = undefined;
});

describe("Socket Mode (SLACK_APP_TOKEN set)", () => {
  it("Slack's WebSocket unreachable → the agent API still answers on PORT and requests are posted over the Web API", async () => {
    // The fake has no apps.connections.open: the WebSocket never connects, as when Slack is down.
    slack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
    const port = await freePort();
    const started = Date.now();
    service = await startService({
      config: testConfig(),
      slack: { botToken: "xoxb-test", signingSecret: "secret", appToken: "xapp-1-test", apiUrl: slack.url },
      port,
      database: await testDatabase(),
      log: pino({ level: "silent" }),
      sweepCron: null,
      outbox: { pollMs: 20 },
    });
    expect(Date.now() - started).toBeLessThan(5000);
    await slack.waitFor((s) => s.callsTo("apps.connections.open").length > 0);

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const created = await fetch(`http://127.0.0.1:${port}/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKENS.support}`, "content-type": "application/json" },
      body: JSON.stringify(REFUND),
    });
    expect(created.status).toBe(201);
    const posted = await slack.waitFor((s) => s.messages("C0SUPPORT")[0]);
    expect(posted.text).toContain("refund.issue");

    const stopping = Date.now();
    await service.stop();
    service = undefined;
    expect(Date.now() - stopping).toBeLessThan(5000);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it("Socket Mode + a path with malformed percent-encoding → 400 in the contract's shape, and the service keeps serving", async () => {
    slack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
    const port = await freePort();
    service = await startService({
      config: testConfig(),
      slack: { botToken: "xoxb-test", signingSecret: "secret", appToken: "xapp-1-test", apiUrl: slack.url },
      port,
      database: await testDatabase(),
      log: pino({ level: "silent" }),
      sweepCron: null,
    });
    const headers = { authorization: `Bearer ${TOKENS.support}` };
    // Bolt's route matching throws on this path: in Socket Mode that was an unhandled rejection.
    const bad = await fetch(`http://127.0.0.1:${port}/v1/requests/%E0%A4%A`, { headers });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
    const odd = await fetch(`http://127.0.0.1:${port}/v1/requests`, { method: "PROPFIND", headers });
    expect(odd.status).toBe(405);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });
});

/** countersign in Socket Mode against a fake Slack that serves the WebSocket, with one request posted. */
async function socketService(
  database?: string | PostgresDatabase,
): Promise<{ service: Service; slack: FakeSlack; id: string; ts: string }> {
  slack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b), socketMode: true });
  const port = await freePort();
  const started = await startService({
    config: testConfig(),
    slack: { botToken: "xoxb-test", signingSecret: "secret", appToken: "xapp-1-test", apiUrl: slack.url },
    port,
    host: "127.0.0.1",
    database:
      database === undefined
        ? await testDatabase()
        : typeof database === "string"
          ? openDatabase(database)
          : database,
    log: pino({ level: "silent" }),
    sweepCron: null,
    outbox: { pollMs: 20 },
  });
  service = started;
  await slack.socket.waitForConnection();
  const created = await fetch(`http://127.0.0.1:${port}/v1/requests`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKENS.support}`, "content-type": "application/json" },
    body: JSON.stringify(REFUND),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const posted = await slack.waitFor((s) => s.messages("C0SUPPORT")[0]);
  // A click counts for the message recorded for its request: wait until the post's answer is stored.
  await eventually(async () => (await started.deps.store.getRequest(id))?.slackTs);
  return { service: started, slack, id, ts: posted.ts };
}

const click = (user: string, action: "approve" | "reject", id: string, ts: string, triggerId?: string) =>
  blockActionsPayload({
    user: { id: user, username: user.toLowerCase() },
    actionId: action,
    value: id,
    channelId: "C0SUPPORT",
    messageTs: ts,
    ...(triggerId === undefined ? {} : { triggerId }),
  }) as Record<string, unknown>;

const rejectSubmission = (user: string, id: string, reason: string) =>
  viewSubmissionPayload({
    user: { id: user, username: user.toLowerCase() },
    callbackId: "reject",
    privateMetadata: id,
    values: { reason: { reason: { type: "plain_text_input", value: reason } } },
  }) as Record<string, unknown>;

describe("Socket Mode end to end (interactions over the fake's WebSocket)", () => {
  it("approver clicks Approve → the envelope is acked after the vote is stored; approved, message updated", async () => {
    const { service, slack, id, ts } = await socketService();
    const ack = await slack.socket.sendInteractive(click("U0LEAD1", "approve", id, ts));
    expect(ack).toMatchObject({ acked: true, payload: {} });
    // Stored before the ack: no waiting.
    expect(await service.deps.store.getRequest(id)).toMatchObject({
      status: "approved",
      resolution: "approved_by_humans",
    });
    const updated = await slack.waitFor((s) => s.callsTo("chat.update")[0]);
    expect(JSON.stringify(updated.args.blocks)).toContain("Approved by <@U0LEAD1>");
  });

  it("Reject → the modal opens; an empty reason is answered in the ack with an error; a reason rejects with it as the comment", async () => {
    const { service, slack, id, ts } = await socketService();
    const clicked = await slack.socket.sendInteractive(click("U0LEAD2", "reject", id, ts, "trig-socket-1"));
    expect(clicked.acked).toBe(true);
    const opened = await slack.waitFor((s) => s.callsTo("views.open")[0]);
    expect(opened.args).toMatchObject({ trigger_id: "trig-socket-1", view: { callback_id: "reject" } });

    const empty = await slack.socket.sendInteractive(rejectSubmission("U0LEAD2", id, "  "));
    expect(empty).toMatchObject({
      acked: true,
      payload: { response_action: "errors", errors: { reason: expect.any(String) } },
    });
    expect((await service.deps.store.getRequest(id))?.status).toBe("pending");

    const done = await slack.socket.sendInteractive(rejectSubmission("U0LEAD2", id, "Duplicate refund"));
    expect(done).toMatchObject({ acked: true, payload: {} });
    expect(await service.deps.store.getRequest(id)).toMatchObject({
      status: "rejected",
      resolution: "rejected_by_human",
    });
    expect((await service.deps.store.decisionsFor(id))[0]).toMatchObject({
      approverId: "U0LEAD2",
      comment: "Duplicate refund",
    });
  });

  it("a stranger clicks Approve → acked, refused ephemerally, refused_click audited, nothing changes", async () => {
    const { service, slack, id, ts } = await socketService();
    slack.setUsergroup("S0LEADS", []);
    const ack = await slack.socket.sendInteractive(click("U0STRANGER", "approve", id, ts));
    expect(ack.acked).toBe(true);
    const told = await slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0STRANGER")[0]);
    expect(told.text).toContain("not an approver");
    expect((await service.deps.store.getRequest(id))?.status).toBe("pending");
    expect(await service.deps.store.decisionsFor(id)).toEqual([]);
    expect((await service.deps.store.auditFor(id)).filter((a) => a.event === "refused_click")).toHaveLength(
      1,
    );
  });

  it.skipIf(onPostgres)(
    "approve while another process holds the write lock → the envelope is never acked (Slack shows the failure), the clicker is told, nothing stored",
    async () => {
      const t = tempDir();
      try {
        const dbPath = join(t.dir, "cs.db");
        const { service, slack, id, ts } = await socketService(dbPath);
        const lock = new Database(dbPath);
        try {
          lock.exec("BEGIN IMMEDIATE");
          const ack = await slack.socket.sendInteractive(click("U0LEAD1", "approve", id, ts));
          expect(ack.acked).toBe(false);
          const told = await slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD1")[0]);
          expect(told.text).toContain("could not save your click");
        } finally {
          lock.close();
        }
        expect((await service.deps.store.getRequest(id))?.status).toBe("pending");
        expect(await service.deps.store.decisionsFor(id)).toEqual([]);
        const again = await slack.socket.sendInteractive(click("U0LEAD1", "approve", id, ts));
        expect(again.acked).toBe(true);
        expect((await service.deps.store.getRequest(id))?.status).toBe("approved");
      } finally {
        t.cleanup();
      }
    },
  );

  it.runIf(onPostgres)(
    "approve while PostgreSQL is unreachable → the envelope is never acked (Slack shows the failure), the clicker is told, nothing stored",
    async () => {
      const proxy = await startDbProxy(await freshPostgresUrl());
      try {
        const { service, slack, id, ts } = await socketService({ postgresUrl: proxy.url });
        proxy.down();
        try {
          const ack = await slack.socket.sendInteractive(click("U0LEAD1", "approve", id, ts));
          expect(ack.acked).toBe(false);
          const told = await slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD1")[0]);
          expect(told.text).toContain("could not save your click");
        } finally {
          proxy.up();
        }
        expect((await service.deps.store.getRequest(id))?.status).toBe("pending");
        expect(await service.deps.store.decisionsFor(id)).toEqual([]);
        const again = await slack.socket.sendInteractive(click("U0LEAD1", "approve", id, ts));
        expect(again.acked).toBe(true);
        expect((await service.deps.store.getRequest(id))?.status).toBe("approved");
      } finally {
        await service?.stop();
        service = undefined;
        await proxy.close();
      }
    },
  );

  it("Socket Mode: HEAD /healthz → 200 without a body, OPTIONS → 204 with Allow, /slack/events (not served) → JSON 404, POST /metrics → JSON 405", async () => {
    slack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
    const port = await freePort();
    service = await startService({
      config: testConfig(),
      slack: { botToken: "xoxb-test", signingSecret: "secret", appToken: "xapp-1-test", apiUrl: slack.url },
      port,
      database: await testDatabase(),
      log: pino({ level: "silent" }),
      sweepCron: null,
    });
    const base = `http://127.0.0.1:${port}`;
    const head = await fetch(`${base}/healthz`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const options = await fetch(`${base}/metrics`, { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    const events = await fetch(`${base}/slack/events`, { method: "POST", body: "{}" });
    expect(events.status).toBe(404);
    expect(((await events.json()) as { error: { code: string } }).error.code).toBe("not_found");
    const post = await fetch(`${base}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
  });
});
