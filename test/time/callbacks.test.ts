import { createHmac } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CALLBACK_RETRY_WINDOW_MS } from "../../src/callbacks/sign.ts";
import { startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { SECRETS, TEST_CONFIG_YAML, TOKENS, testConfig } from "../support/config.ts";
import { eventually, type Harness, REFUND, startHarness, tempDir } from "../support/harness.ts";
import { createPosted, type Delivery, sleep, startReceiver, verifyWebhook } from "./helpers.ts";

const cleanups = useCleanups();

/** Creates a request with a callback to `url` and approves it; returns its id. */
async function approvedWithCallback(h: Harness, url: string): Promise<string> {
  const id = await createPosted(h, { ...REFUND, callback_url: url });
  await h.click("U0LEAD1", "approve", id);
  await eventually(async () => (await h.service.deps.store.getRequest(id))?.status === "approved");
  return id;
}

/** The callback row of a request (there is one per final status). */
async function callbackOf(h: Harness, id: string) {
  const rows = await h.service.deps.store.callbacksFor(id);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function callbackAudit(h: Harness, id: string): Promise<Record<string, unknown>[]> {
  return (await h.service.deps.store.auditFor(id))
    .filter((a) => a.event === "callback_failed" || a.event === "callback_delivered")
    .map((a) => ({ event: a.event, ...(JSON.parse(a.detail ?? "{}") as Record<string, unknown>) }));
}

/** Hand-rolled Standard Webhooks signature, independent of src/callbacks/sign.ts. */
function handSignature(secret: string, d: Delivery): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const mac = createHmac("sha256", key)
    .update(`${d.headers["webhook-id"]}.${d.headers["webhook-timestamp"]}.${d.body}`)
    .digest("base64");
  return `v1,${mac}`;
}

describe("callback delivery", () => {
  it("approved + callback_url → request.decided delivered, signed per Standard Webhooks", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver();
    const id = await approvedWithCallback(h, hook.url);
    const [delivery] = await hook.waitForDeliveries(1);
    const d = delivery!;

    // Verified by the independent standardwebhooks package…
    const payload = verifyWebhook(SECRETS.support, d, h.clock.now()) as { type: string; data: unknown };
    expect(payload.type).toBe("request.decided");
    const resource = await h.api("GET", `/v1/requests/${id}`);
    expect(payload.data).toEqual(resource.json);
    expect(payload.data).toMatchObject({ id, status: "approved", resolution: "approved_by_humans" });

    // …and by hand: header formats and the HMAC over "id.timestamp.body" with the decoded secret.
    expect(d.headers["content-type"]).toMatch(/^application\/json/);
    expect(d.headers["webhook-id"]).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    expect(d.headers["webhook-timestamp"]).toBe(String(Math.floor(h.clock.now() / 1000)));
    expect(d.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(d.headers["webhook-signature"]!.split(" ")).toContain(handSignature(SECRETS.support, d));

    // A receiver rejects a tampered body, another secret, or a stale timestamp.
    expect(() =>
      verifyWebhook(SECRETS.support, { ...d, body: d.body.replace("approved", "rejected") }, h.clock.now()),
    ).toThrow();
    const otherSecret = `whsec_${Buffer.from("another-secret-of-thirty-two-bytes!!").toString("base64")}`;
    expect(() => verifyWebhook(otherSecret, d, h.clock.now())).toThrow();
    expect(() => verifyWebhook(SECRETS.support, d, h.clock.now() + 10 * 60_000)).toThrow();

    await h.settle();
    const row = await callbackOf(h, id);
    expect(row.id).toBe(d.headers["webhook-id"]);
    expect(row.attempts).toBe(1);
    expect(row.deliveredAt).toBe(h.clock.now());
    expect(row.failedAt).toBeNull();
    expect(await callbackAudit(h, id)).toEqual([
      expect.objectContaining({ event: "callback_delivered", webhook_id: row.id, attempt: 1, status: 200 }),
    ]);
    await sleep(100);
    expect(hook.deliveries).toHaveLength(1);
  });

  it("decided by policy at creation + callback_url → request.decided delivered", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver();
    const created = await h.create({ ...REFUND, params: { amount: 20 }, callback_url: hook.url });
    expect(created.json.status).toBe("approved");
    const [d] = await hook.waitForDeliveries(1);
    const payload = verifyWebhook(SECRETS.support, d!, h.clock.now()) as {
      type: string;
      data: { id: string };
    };
    expect(payload).toMatchObject({
      type: "request.decided",
      data: { id: created.json.id, resolution: "approved_by_policy" },
    });
  });

  it("rejected by a human (modal) + callback_url → request.decided with rejected_by_human and the reason", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver();
    const id = await createPosted(h, { ...REFUND, callback_url: hook.url });
    expect((await h.submitReject("U0LEAD2", id, "not within policy")).status).toBe(200);
    const [d] = await hook.waitForDeliveries(1);
    const payload = verifyWebhook(SECRETS.support, d!, h.clock.now()) as {
      data: { status: string; resolution: string; decisions: { comment: string }[] };
    };
    expect(payload.data).toMatchObject({ status: "rejected", resolution: "rejected_by_human" });
    expect(payload.data.decisions[0]?.comment).toBe("not within policy");
  });

  it("rejected by policy at creation + callback_url → request.decided with rejected_by_policy", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver();
    const created = await h.create({
      action: "db.drop_table",
      summary: "Drop it",
      params: {},
      callback_url: hook.url,
    });
    expect(created.json.status).toBe("rejected");
    const [d] = await hook.waitForDeliveries(1);
    expect(verifyWebhook(SECRETS.support, d!, h.clock.now())).toMatchObject({
      type: "request.decided",
      data: { id: created.json.id, status: "rejected", resolution: "rejected_by_policy" },
    });
  });

  it("pending + no final status yet → nothing delivered", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver();
    const id = await createPosted(h, { ...REFUND, callback_url: hook.url });
    h.clock.advance(15 * 60_000);
    await h.service.sweepNow(); // escalation is not a final status
    await h.settle();
    await sleep(80);
    expect(hook.deliveries).toHaveLength(0);
    expect(await h.service.deps.store.callbacksFor(id)).toHaveLength(0);
  });

  it("callback answered 500 → retried with growing backoff and the same webhook-id until a 2xx", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver((_d, n) => (n < 3 ? 500 : 200));
    const id = await approvedWithCallback(h, hook.url);
    const firstAttemptAt = h.clock.now();
    const delays: number[] = [];

    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await hook.waitForDeliveries(attempt);
      const row = await eventually(async () => {
        const r = await callbackOf(h, id);
        return r.attempts === attempt ? r : null;
      });
      expect(row.deliveredAt).toBeNull();
      expect(row.lastStatus).toBe(500);
      const delay = row.nextAttemptAt! - h.clock.now();
      delays.push(delay);
      // Not due yet: the fake clock has not moved, so no retry happens.
      await sleep(80);
      expect(hook.deliveries).toHaveLength(attempt);
      h.clock.advance(delay);
    }
    await hook.waitForDeliveries(4);
    await eventually(async () => (await callbackOf(h, id)).deliveredAt !== null);

    // 5 s, 10 s, 20 s, each with ±20% jitter.
    expect(delays[0]).toBeGreaterThanOrEqual(4_000);
    expect(delays[0]).toBeLessThanOrEqual(6_000);
    expect(delays[1]).toBeGreaterThanOrEqual(8_000);
    expect(delays[1]).toBeLessThanOrEqual(12_000);
    expect(delays[2]).toBeGreaterThanOrEqual(16_000);
    expect(delays[2]).toBeLessThanOrEqual(24_000);

    const ids = new Set(hook.deliveries.map((d) => d.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    expect(new Set(hook.deliveries.map((d) => d.body)).size).toBe(1);
    // Each attempt is signed at its own time, so a receiver with a ±5 min window accepts every retry.
    for (const [i, d] of hook.deliveries.entries()) {
      const attemptAt = firstAttemptAt + delays.slice(0, i).reduce((a, b) => a + b, 0);
      expect(d.headers["webhook-timestamp"]).toBe(String(Math.floor(attemptAt / 1000)));
      expect(() => verifyWebhook(SECRETS.support, d, attemptAt)).not.toThrow();
    }

    expect((await callbackAudit(h, id)).map((a) => [a.event, a.attempt, a.status, a.result])).toEqual([
      ["callback_failed", 1, 500, "retry"],
      ["callback_failed", 2, 500, "retry"],
      ["callback_failed", 3, 500, "retry"],
      ["callback_delivered", 4, 200, "delivered"],
    ]);
    h.clock.advance(24 * 60 * 60_000);
    await sleep(80);
    expect(hook.deliveries).toHaveLength(4);
  });

  it("callback answered 410 → no more attempts, failed_at set, audited", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver(() => 410);
    const id = await approvedWithCallback(h, hook.url);
    await hook.waitForDeliveries(1);
    const row = await eventually(async () => {
      const r = await callbackOf(h, id);
      return r.failedAt !== null ? r : null;
    });
    expect(row.failedAt).toBe(h.clock.now());
    expect(row.nextAttemptAt).toBeNull();
    expect(row.lastStatus).toBe(410);
    expect(await h.service.deps.store.pendingCallbacks()).toBe(0);
    for (let i = 0; i < 5; i += 1) {
      h.clock.advance(60 * 60_000);
      await sleep(30);
    }
    expect(hook.deliveries).toHaveLength(1);
    expect((await callbackAudit(h, id)).map((a) => [a.event, a.status, a.result])).toEqual([
      ["callback_failed", 410, "gone"],
    ]);
  });

  it("callback receiver never answers → attempt times out after timeoutMs, retried later", async () => {
    const h = await cleanups.harness({ callbacks: { timeoutMs: 200 } });
    const hook = await cleanups.receiver((_d, n) => (n === 0 ? "hang" : 200));
    const id = await approvedWithCallback(h, hook.url);

    const row = await eventually(async () => {
      const r = await callbackOf(h, id);
      return r.attempts === 1 ? r : null;
    });
    expect(row.lastStatus).toBeNull();
    expect(row.lastError).toMatch(/timed out after 200 ms/);
    expect(row.nextAttemptAt).toBeGreaterThan(h.clock.now());

    // A hanging receiver blocks nothing else: another request goes through meanwhile.
    const other = await createPosted(h);
    await h.click("U0LEAD2", "approve", other);
    await eventually(async () => (await h.service.deps.store.getRequest(other))?.status === "approved");

    h.clock.advance(row.nextAttemptAt! - h.clock.now());
    await hook.waitForDeliveries(2);
    await eventually(async () => (await callbackOf(h, id)).deliveredAt !== null);
    expect((await callbackAudit(h, id)).map((a) => [a.event, a.result, a.error])).toEqual([
      ["callback_failed", "retry", "timed out after 200 ms"],
      ["callback_delivered", "delivered", null],
    ]);
  });

  it("callback always failing → retried with backoff capped at 1 h for at least 24 h, every attempt audited, then given up", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver(() => 503);
    const id = await approvedWithCallback(h, hook.url);
    const firstAttemptAt = h.clock.now();
    const delays: number[] = [];
    for (let attempt = 1; attempt < 500; attempt += 1) {
      const row = await eventually(async () => {
        const r = await callbackOf(h, id);
        return r.attempts === attempt ? r : null;
      });
      if (row.failedAt !== null) break;
      // Never scheduled past the retry window it gives up at.
      expect(row.nextAttemptAt! - row.createdAt).toBeLessThanOrEqual(CALLBACK_RETRY_WINDOW_MS);
      const delay = row.nextAttemptAt! - h.clock.now();
      delays.push(delay);
      h.clock.advance(delay);
    }
    const row = await callbackOf(h, id);
    expect(row.failedAt).not.toBeNull();
    expect(row.deliveredAt).toBeNull();
    expect(row.failedAt! - firstAttemptAt).toBeGreaterThanOrEqual(24 * 60 * 60_000);
    expect(row.failedAt! - row.createdAt).toBeLessThanOrEqual(CALLBACK_RETRY_WINDOW_MS);
    expect(hook.deliveries).toHaveLength(row.attempts);
    expect(new Set(hook.deliveries.map((d) => d.headers["webhook-id"])).size).toBe(1);

    // Exponential at first, never beyond 1 h (+20% jitter), and jittered (not all equal once capped).
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(delays[4]!).toBeGreaterThan(delays[1]!);
    expect(Math.max(...delays)).toBeLessThanOrEqual(72 * 60_000);
    const capped = delays.filter((d) => d >= 48 * 60_000);
    expect(capped.length).toBeGreaterThan(5);
    expect(new Set(capped).size).toBeGreaterThan(1);

    const audit = await callbackAudit(h, id);
    expect(audit).toHaveLength(row.attempts);
    expect(audit.every((a) => a.event === "callback_failed")).toBe(true);
    expect(audit.at(-1)?.result).toBe("gave_up");
    expect(audit.slice(0, -1).every((a) => a.result === "retry")).toBe(true);

    h.clock.advance(7 * 24 * 60 * 60_000);
    await sleep(80);
    expect(hook.deliveries).toHaveLength(row.attempts);
  });

  it("receiver down + service restarted on the same database + receiver up → delivered exactly once", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dbPath = join(t.dir, "countersign.db");
    const clock = new FakeClock();
    const slack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
    cleanups.push(() => slack.close());

    // A port nobody listens on (yet).
    const probe = await startReceiver();
    const port = probe.port;
    await probe.close();
    const url = `http://127.0.0.1:${port}/hooks/approvals`;

    const first = await startHarness({ dbPath, clock, slack });
    const id = await approvedWithCallback(first, url);
    const failed = await eventually(async () => {
      const r = await callbackOf(first, id);
      return r.attempts === 1 ? r : null;
    });
    expect(failed.deliveredAt).toBeNull();
    expect(failed.lastError).not.toBeNull();
    await first.stop();

    const hook = await cleanups.receiver(() => 200, port);
    clock.advance(failed.nextAttemptAt! - clock.now());
    const second = await cleanups.harness({ dbPath, clock, slack });
    const [d] = await hook.waitForDeliveries(1);
    expect(d!.headers["webhook-id"]).toBe(failed.id);
    expect(() => verifyWebhook(SECRETS.support, d!, clock.now())).not.toThrow();
    await eventually(async () => (await callbackOf(second, id)).deliveredAt !== null);

    clock.advance(24 * 60 * 60_000);
    await sleep(100);
    expect(hook.deliveries).toHaveLength(1);
    expect((await callbackAudit(second, id)).map((a) => [a.event, a.attempt])).toEqual([
      ["callback_failed", 1],
      ["callback_delivered", 2],
    ]);
  });
});

describe("callback_url validation", () => {
  /** deploy-bot with a secret, so only its callback_hosts restrict it. */
  const HOSTS_YAML = TEST_CONFIG_YAML.replace(
    "    callback_hosts: [ci.example.com]",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${VAR} reference in the YAML, expanded by the config loader
    '    callback_secret: ${SUPPORT_SECRET}\n    callback_hosts: [ci.example.com, "*.hooks.example.org"]',
  );

  it.each(["ftp://agent.example.com/hook", "javascript:alert(1)", "file:///etc/passwd", "not a url"])(
    "callback_url %s → 400 naming callback_url, nothing stored",
    async (url) => {
      const h = await cleanups.harness();
      const res = await h.create({ ...REFUND, callback_url: url });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("invalid_request");
      expect(res.json.error.issues.map((i: { path: string }) => i.path)).toContain("callback_url");
      expect(await h.service.deps.store.countByStatus()).toEqual([]);
    },
  );

  it.each([
    "https://evil.example.com/hook",
    "https://ci.example.com.evil.net/hook",
    "https://hooks.example.org/hook",
  ])(
    "deploy-bot + callback_url %s outside callback_hosts → 400 naming callback_url, nothing stored",
    async (url) => {
      const h = await cleanups.harness({ config: testConfig(HOSTS_YAML) });
      const res = await h.create({ ...REFUND, callback_url: url }, { token: TOKENS.deploy });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("invalid_request");
      expect(res.json.error.issues.map((i: { path: string }) => i.path)).toEqual(["callback_url"]);
      expect(res.json.error.message).toContain("callback_hosts");
      expect(await h.service.deps.store.countByStatus()).toEqual([]);
    },
  );

  it.each([
    "https://ci.example.com/hook",
    "http://CI.example.com:8443/hook",
    "https://a.hooks.example.org/x",
  ])("deploy-bot + callback_url %s inside callback_hosts → 201", async (url) => {
    const h = await cleanups.harness({ config: testConfig(HOSTS_YAML) });
    const res = await h.create({ ...REFUND, callback_url: url }, { token: TOKENS.deploy });
    expect(res.status).toBe(201);
    expect(res.json.callback_url).toBe(url);
  });

  it("agent without callback_secret + callback_url → 400 naming callback_url", async () => {
    const h = await cleanups.harness();
    const res = await h.create(
      { ...REFUND, callback_url: "https://ci.example.com/hook" },
      { token: TOKENS.deploy },
    );
    expect(res.status).toBe(400);
    expect(res.json.error.issues.map((i: { path: string }) => i.path)).toEqual(["callback_url"]);
    expect(await h.service.deps.store.countByStatus()).toEqual([]);
  });
});
