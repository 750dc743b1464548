import { once } from "node:events";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { FakeClock } from "../support/clock.ts";
import { TOKENS } from "../support/config.ts";
import { crashChildUrl, spawnCrashChild } from "../support/crash-child.ts";
import {
  eventually,
  type Harness,
  postgresUrlFor,
  REFUND,
  startHarness,
  tempDir,
} from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const LEASE_MS = 1_000;
const requestIdOf = (m: { metadata?: unknown }) =>
  (m.metadata as { event_payload?: { request_id?: string } } | undefined)?.event_payload?.request_id;

/**
 * The one window a durable outbox cannot close by itself: Slack took the post,
 * and the process died before it could record the message's ts. The retry (by
 * the restarted process, or another replica once the lease ends) finds that
 * message by its metadata in the channel's history and adopts it.
 */
describe("a post Slack took just before a kill -9", () => {
  it("kill -9 while Slack's answer is on its way → the restart adopts the posted message: one message per request, its ts stored", async () => {
    const slack: FakeSlack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
    cleanups.push(() => slack.close());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const key = join(dir, "countersign.db");
    const db = onPostgres ? await postgresUrlFor(key) : key;
    const startMs = Date.parse("2026-12-03T10:00:00.000Z");
    // The post is taken at once, its answer held: the child dies before it hears.
    // (One call at a time per channel: the other two posts wait behind it.)
    slack.answerLateNext("chat.postMessage", 60_000, 1);
    const child = spawnCrashChild(db, slack.url, startMs, LEASE_MS);
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    const url = await crashChildUrl(child);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await fetch(`${url}/v1/requests`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKENS.support}`, "content-type": "application/json" },
        body: JSON.stringify({ ...REFUND, summary: `Refund number ${i}` }),
      });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    await slack.waitFor((s) => s.messages("C0SUPPORT").length === 1, 10_000);
    child.kill("SIGKILL");
    await once(child, "exit");

    // The restart (on PostgreSQL: any replica) takes over once the dead process's lease is over.
    const h: Harness = await startHarness({
      slack,
      dbPath: key,
      clock: new FakeClock(startMs),
      leaseMs: LEASE_MS,
    });
    cleanups.push(() => h.stop());
    // Leases run on the service clock: the dead process's claim lapses once it has moved past it.
    h.clock.advance(LEASE_MS + 1);
    h.service.kick();
    for (const id of ids) {
      await eventually(async () => (await h.service.deps.store.getRequest(id))?.slackTs, 10_000);
    }
    await h.settle();
    const messages = slack.messages("C0SUPPORT").filter((m) => m.thread_ts === undefined);
    expect(messages.map(requestIdOf).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const row = await h.service.deps.store.getRequest(id);
      const message = messages.find((m) => requestIdOf(m) === id);
      expect(row?.slackTs).toBe(message?.ts);
      expect((await h.service.deps.store.auditFor(id)).filter((e) => e.event === "posted")).toHaveLength(1);
    }
    // Found, not posted again: three posts in all, the first by the process that died.
    expect(slack.messages("C0SUPPORT").filter((m) => m.thread_ts === undefined)).toHaveLength(3);
    expect(slack.callsTo("conversations.history").length).toBeGreaterThan(0);
  });
});
