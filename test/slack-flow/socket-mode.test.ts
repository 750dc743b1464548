import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/open.ts";
import { type FakeSlack, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { type Service, startService } from "../../src/service.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { TOKENS, testConfig } from "../support/config.ts";
import { REFUND } from "../support/harness.ts";
import { freePort } from "../support/ports.ts";

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
      database: openDatabase(":memory:"),
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
      database: openDatabase(":memory:"),
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
