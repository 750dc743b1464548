import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { postCallback } from "../../src/callbacks/post.ts";
import { blockedRange, guardedLookup } from "../../src/callbacks/target.ts";
import { startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { TEST_CONFIG_YAML, TOKENS, testConfig } from "../support/config.ts";
import { eventually, type Harness, REFUND, startHarness, tempDir } from "../support/harness.ts";
import { type Receiver, type Respond, startReceiver } from "../support/receiver.ts";

const cleanups = useCleanups();

/** The test configuration as an operator gets it: private callback targets refused (the default). */
const STRICT_YAML = TEST_CONFIG_YAML.replace("callbacks: { allow_private_targets: true }", "");
/** Both agents with a callback secret, so two agents' callbacks can be compared. */
const TWO_AGENTS_YAML = TEST_CONFIG_YAML.replace(
  "    callback_hosts: [ci.example.com]",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${VAR} reference in the YAML, expanded by the config loader
  "    callback_secret: ${SUPPORT_SECRET}",
);

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(options);
  cleanups.push(() => h.stop());
  return h;
}
async function receiver(respond?: Respond): Promise<Receiver> {
  const r = await startReceiver(respond);
  cleanups.push(() => r.close());
  return r;
}

/** A policy-approved request (amount < 50): its callback is queued at creation. */
const SMALL = { ...REFUND, params: { amount: 20, currency: "USD" } };

describe("callback_url targets (SSRF)", () => {
  it("the test configuration differs from the default only by allowing private targets", () => {
    expect(STRICT_YAML).not.toContain("allow_private_targets");
    expect(testConfig(STRICT_YAML).callbacks).toEqual({ allow_private_targets: false });
    expect(testConfig().callbacks).toEqual({ allow_private_targets: true });
  });

  it.each([
    "http://127.0.0.1:8080/hook",
    "http://2130706433/hook", // decimal
    "http://0x7f.1/hook", // hex, short
    "http://127.1/hook", // short
    "http://0177.0.0.1/hook", // octal
    "http://0x7f000001/hook",
    "http://[::ffff:127.0.0.1]/hook", // IPv4-mapped IPv6
    "http://[::ffff:7f00:1]/hook",
    "http://[::127.0.0.1]/hook", // IPv4-compatible IPv6
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://0.0.0.0/hook",
    "http://0/hook",
    "http://10.0.0.1/hook",
    "http://172.16.5.4/hook",
    "http://192.168.1.1/hook",
    "http://[::ffff:192.168.1.1]/hook",
    "http://169.254.169.254/latest/meta-data/", // cloud metadata
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://100.64.0.1/hook", // CGNAT
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://255.255.255.255/hook",
    "http://240.0.0.1/hook",
    "http://[64:ff9b::7f00:1]/hook", // NAT64 of 127.0.0.1
    "http://[2002:7f00:1::]/hook", // 6to4 of 127.0.0.1
    "http://localhost:8080/hook", // a name that resolves to loopback
  ])("default config + callback_url %s → 400 naming callback_url, nothing stored", async (url) => {
    const h = await harness({ config: testConfig(STRICT_YAML) });
    const res = await h.create({ ...REFUND, callback_url: url });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("invalid_request");
    expect(res.json.error.issues).toEqual([
      { path: "callback_url", message: expect.stringContaining("public") },
    ]);
    expect(await h.service.deps.store.countByStatus()).toEqual([]);
  });

  it.each([
    "https://user:pass@hooks.example.com/hook",
    "https://user@hooks.example.com/hook",
    "http://:secret@127.0.0.1/hook",
  ])(
    "callback_url with userinfo %s → 400 naming callback_url, even where private targets are allowed",
    async (url) => {
      for (const config of [testConfig(STRICT_YAML), testConfig()]) {
        const h = await harness({ config });
        const res = await h.create({ ...REFUND, callback_url: url });
        expect(res.status).toBe(400);
        expect(res.json.error.issues).toEqual([
          { path: "callback_url", message: "must not contain a user name or password" },
        ]);
        expect(await h.service.deps.store.countByStatus()).toEqual([]);
      }
    },
  );

  it("default config + callback_url at a public IP literal → 201", async () => {
    const h = await harness({ config: testConfig(STRICT_YAML) });
    const res = await h.create({ ...REFUND, callback_url: "https://93.184.216.34/hook" });
    expect(res.status).toBe(201);
  });

  it("allow_private_targets + callback_url on 127.0.0.1 → 201 and delivered", async () => {
    const h = await harness();
    const hook = await receiver();
    const res = await h.create({ ...SMALL, callback_url: hook.url });
    expect(res.status).toBe(201);
    await hook.waitForDeliveries(1);
  });

  it("created while private targets were allowed + restarted without → refused at connect time, nothing reaches the target", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dbPath = join(t.dir, "countersign.db");
    const clock = new FakeClock();
    const slack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
    cleanups.push(() => slack.close());
    const hook = await receiver();
    // A name (checked in the agent's lookup, as DNS rebinding would need) and a literal.
    const byName = hook.url.replace("127.0.0.1", "localhost");
    const first = await startHarness({ dbPath, clock, slack });
    const ids: string[] = [];
    for (const url of [byName, hook.url]) {
      const created = await first.create({ ...REFUND, callback_url: url });
      expect(created.status).toBe(201);
      ids.push(created.json.id);
    }
    await first.stop();

    const second = await harness({ dbPath, clock, slack, config: testConfig(STRICT_YAML) });
    // Posted (by the first or, after the restart, the second): the clicks are on recorded messages.
    for (const id of ids)
      await eventually(async () => (await second.service.deps.store.getRequest(id))?.slackTs);
    for (const id of ids) await second.click("U0LEAD1", "approve", id);
    for (const id of ids) {
      const row = await eventually(async () => {
        const r = (await second.service.deps.store.callbacksFor(id))[0];
        return r && r.attempts >= 1 ? r : null;
      });
      expect(row.deliveredAt).toBeNull();
      expect(row.lastStatus).toBeNull();
      expect(row.lastError).toMatch(/loopback address; callbacks may only reach public addresses/);
    }
    expect(hook.deliveries).toEqual([]);
  });

  it("one agent's endpoint hanging with a backlog → another agent's callback is delivered meanwhile", async () => {
    const h = await harness({ config: testConfig(TWO_AGENTS_YAML), callbacks: { timeoutMs: 60_000 } });
    const slow = await receiver(() => "hang");
    const fast = await receiver();
    for (let i = 0; i < 12; i += 1) {
      expect((await h.create({ ...SMALL, callback_url: slow.url, run_id: `slow-${i}` })).status).toBe(201);
    }
    await slow.waitForDeliveries(1);
    const res = await h.create({ ...SMALL, callback_url: fast.url }, { token: TOKENS.deploy });
    expect(res.status).toBe(201);
    await fast.waitForDeliveries(1, 3_000);
    // The slow agent holds a bounded share of the workers, not all of them.
    expect(slow.deliveries.length).toBeLessThanOrEqual(2);
  });
});

describe("address classification", () => {
  it.each([
    ["8.8.8.8", null],
    ["2606:4700::1111", null],
    ["127.0.0.1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::127.0.0.1", "loopback"],
    ["::7f00:1", "ipv4Compatible"],
    ["169.254.169.254", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["fd00::1", "uniqueLocal"],
    ["::", "unspecified"],
    ["not an ip", "invalid"],
  ])("%s → %s", (address, range) => {
    expect(blockedRange(address)).toBe(range);
  });

  it("the connect-time lookup refuses a name that resolves to loopback, and passes it when private targets are allowed", async () => {
    const ask = (allowPrivate: boolean) =>
      new Promise<unknown>((resolve) => {
        guardedLookup({ allowPrivate })("localhost", { all: true }, (error, addresses) =>
          resolve(error ?? addresses),
        );
      });
    expect(await ask(false)).toBeInstanceOf(Error);
    expect(await ask(true)).toEqual(
      expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]),
    );
  });

  it("a target that cannot be reached in time → the attempt gives up after the connect timeout, not the overall one", async () => {
    const started = Date.now();
    const attempt = postCallback("http://hooks.example.com/hook", {
      headers: {},
      body: "{}",
      signal: AbortSignal.timeout(30_000),
      connectTimeoutMs: 200,
      policy: { allowPrivate: false },
      lookup: () => undefined, // a resolver that never answers
    });
    await expect(attempt).rejects.toThrow("could not connect within 200 ms");
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
