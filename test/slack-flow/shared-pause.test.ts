import { afterEach, describe, expect, it } from "vitest";
import { type Harness, REFUND, startHarness } from "../support/harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A 429 pauses a channel for every replica: the pause is stored, and each
 * replica's outbox reads the stored pauses before it sends. Here the pause is
 * written straight into the store, as another replica's outbox would write it.
 */
describe("a channel paused after a 429 by another replica", () => {
  it("stored pause → no post to that channel until it ends, then posted once", async () => {
    h = await startHarness();
    const now = h.clock.now();
    await h.service.deps.store.pauseChannel("C0SUPPORT", now + 30_000, now + 90_000);
    expect((await h.create(REFUND)).status).toBe(201);
    for (let i = 0; i < 10; i += 1) {
      h.service.kick();
      await sleep(40);
    }
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
    h.clock.advance(30_001);
    await h.slack.waitFor((s) => s.messages("C0SUPPORT")[0], 5_000);
    await h.settle();
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(1);
  });

  it("a pause that already ended is ignored (paced only): the post goes out at once", async () => {
    h = await startHarness();
    const now = h.clock.now();
    await h.service.deps.store.pauseChannel("C0SUPPORT", now - 1, now + 60_000);
    expect((await h.create(REFUND)).status).toBe(201);
    await h.slack.waitFor((s) => s.messages("C0SUPPORT")[0], 5_000);
  });
});
