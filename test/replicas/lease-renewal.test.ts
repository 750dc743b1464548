import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { FakeClock } from "../support/clock.ts";
import { type Harness, REFUND, startHarness, tempDir } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const LEASE_MS = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A live replica keeps what it claimed while Slack is slower than the lease:
 * it renews the claim, so the other replica never takes the item over and
 * posts it a second time. Both replicas share one clock that keeps moving.
 */
describe.skipIf(!onPostgres)("a claim outlives a Slack call slower than the lease", () => {
  it("post slower than the lease on replica A, replica B polling all along → posted once, by A", async () => {
    const slack: FakeSlack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
    cleanups.push(() => slack.close());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const key = join(dir, "countersign.db");
    const clock = new FakeClock(Date.parse("2026-12-03T10:00:00.000Z"));
    const replicas: Harness[] = [];
    for (let i = 0; i < 2; i += 1) {
      const h = await startHarness({ slack, dbPath: key, clock, leaseMs: LEASE_MS });
      cleanups.push(() => h.stop());
      replicas.push(h);
    }
    const [a, b] = replicas as [Harness, Harness];
    slack.delayNext("chat.postMessage", 2_000);
    expect((await a.create(REFUND)).status).toBe(201);
    // Ten leases pass while the post hangs; B looks for work at every step.
    for (let i = 0; i < 40; i += 1) {
      clock.advance(LEASE_MS / 4);
      b.service.kick();
      a.service.kick();
      await sleep(60);
    }
    await a.settle();
    await b.settle();
    expect(slack.messages("C0SUPPORT").filter((m) => m.thread_ts === undefined)).toHaveLength(1);
    expect(slack.callsTo("chat.postMessage")).toHaveLength(1);
  });
});
