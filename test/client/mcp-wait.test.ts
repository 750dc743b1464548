import { ErrorCode, McpError, type Progress } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { TOKENS } from "../support/config.ts";
import { eventually, type Harness, tempDir } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";
import { harness, REFUND, storedRequests } from "./helpers.ts";
import { call, session } from "./mcp-session.ts";

const cleanups = useCleanups();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ids of support-bot's requests, newest first (the agent API's list). */
async function requestIds(h: Harness): Promise<string[]> {
  const res = await h.api("GET", "/v1/requests");
  return res.json.data.map((r: { id: string }) => r.id);
}

/** After `ms`, approves the one request the MCP server made, as an approver clicking in Slack. */
async function approveOnlyRequestAfter(h: Harness, ms: number): Promise<string> {
  const id = await eventually(async () => (await requestIds(h))[0], 10_000);
  await eventually(async () => (await h.service.deps.store.getRequest(id))?.slackTs, 10_000);
  await sleep(ms);
  await h.click("U0LEAD1", "approve", id);
  return id;
}

describe("countersign-mcp: waits longer than a client's request timeout", () => {
  it("progressToken given → notifications every interval naming the id; a 3 s client timeout reset by them survives a 9 s wait → approved", async () => {
    const h = await harness(cleanups);
    const client = await session(cleanups, {
      COUNTERSIGN_URL: h.url,
      COUNTERSIGN_TOKEN: TOKENS.support,
      COUNTERSIGN_MCP_PROGRESS_SECONDS: "0.5",
    });
    const progress: Progress[] = [];
    const approving = approveOnlyRequestAfter(h, 9_000);
    const answer = await call(
      client,
      "request_approval",
      { ...REFUND, wait_seconds: 120 },
      { onprogress: (p) => progress.push(p), timeout: 3_000, resetTimeoutOnProgress: true },
    );
    const id = await approving;
    expect(answer).toMatchObject({ isError: false, structured: { id, status: "approved", next: null } });
    expect(progress.length).toBeGreaterThanOrEqual(9);
    expect(progress[0]).toMatchObject({ total: 120, message: expect.stringContaining(id) });
    const values = progress.map((p) => p.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length);
  }, 30_000);

  it("no progressToken → answers pending with the id at the call budget; get_approval resumes by id → approved", async () => {
    const h = await harness(cleanups);
    const client = await session(cleanups, {
      COUNTERSIGN_URL: h.url,
      COUNTERSIGN_TOKEN: TOKENS.support,
      COUNTERSIGN_MCP_CALL_SECONDS: "2",
    });
    // Asked to wait 600 s, it answers within the test's 30 s: at the 2 s budget.
    const first = await call(client, "request_approval", { ...REFUND, wait_seconds: 600 });
    expect(first.structured).toMatchObject({
      status: "pending",
      next: expect.stringContaining("get_approval"),
    });
    const id = first.structured?.id as string;
    await eventually(async () => (await h.service.deps.store.getRequest(id))?.slackTs);

    const resumed = call(client, "get_approval", { id, wait_seconds: 600 });
    await sleep(500);
    await h.click("U0LEAD2", "approve", id);
    expect((await resumed).structured).toMatchObject({
      id,
      status: "approved",
      resolution: "approved_by_humans",
    });
    expect(await storedRequests(h)).toBe(1);
  }, 30_000);

  it("client times out mid-wait → the same call again finds the same request (no duplicate); after its decision is answered, the same arguments ask anew", async () => {
    const h = await harness(cleanups);
    const client = await session(cleanups, { COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support });
    const timedOut = await call(
      client,
      "request_approval",
      { ...REFUND, wait_seconds: 30 },
      { timeout: 1_000 },
    ).then(
      () => null,
      (error: unknown) => error,
    );
    expect(timedOut).toBeInstanceOf(McpError);
    expect((timedOut as McpError).code).toBe(ErrorCode.RequestTimeout);
    const [id] = await eventually(async () => {
      const ids = await requestIds(h);
      return ids.length > 0 ? ids : undefined;
    });

    // The model retries, with another wait: no second request, the first one's id.
    const retried = await call(client, "request_approval", { ...REFUND, wait_seconds: 0 });
    expect(retried.structured).toMatchObject({ id, status: "pending" });
    expect(await storedRequests(h)).toBe(1);
    // The cancelled call's answer never reached the client, so a timed-out retry while decided still finds it.
    await eventually(async () => (await h.service.deps.store.getRequest(id!))?.slackTs);
    await h.click("U0LEAD1", "approve", id!);
    const decided = await call(client, "request_approval", { ...REFUND, wait_seconds: 5 });
    expect(decided.structured).toMatchObject({ id, status: "approved" });
    expect(await storedRequests(h)).toBe(1);

    // That approval reached the model: asking the same thing again is a new question.
    const again = await call(client, "request_approval", REFUND);
    expect(again.structured).toMatchObject({ status: "pending" });
    expect(again.structured?.id).not.toBe(id);
    expect(await storedRequests(h)).toBe(2);
  }, 30_000);

  it("a final answer by get_approval also ends the key: the same request_approval after it asks anew", async () => {
    const h = await harness(cleanups);
    const client = await session(cleanups, { COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support });
    const { structured } = await call(client, "request_approval", REFUND);
    const id = structured?.id as string;
    expect(await call(client, "request_approval", REFUND)).toMatchObject({ structured: { id } });
    await eventually(async () => (await h.service.deps.store.getRequest(id))?.slackTs);
    await h.click("U0LEAD1", "approve", id);
    expect((await call(client, "get_approval", { id, wait_seconds: 5 })).structured).toMatchObject({
      status: "approved",
    });
    const again = await call(client, "request_approval", REFUND);
    expect(again.structured?.id).not.toBe(id);
    // An explicit idempotency_key still decides on its own.
    const keyed = await call(client, "request_approval", { ...REFUND, idempotency_key: "k-1" });
    expect(
      (await call(client, "request_approval", { ...REFUND, idempotency_key: "k-1" })).structured?.id,
    ).toBe(keyed.structured?.id);
    expect(await storedRequests(h)).toBe(3);
  }, 30_000);

  it("countersign restarts during a wait (file DB, same port) → the call keeps waiting through it → approved", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const slack = await startFakeSlack();
    cleanups.push(() => slack.close());
    const clock = new FakeClock();
    const dbPath = `${dir}/countersign.db`;
    const first = await harness(cleanups, { dbPath, slack, clock });
    const port = Number(new URL(first.url).port);
    const client = await session(cleanups, {
      COUNTERSIGN_URL: first.url,
      COUNTERSIGN_TOKEN: TOKENS.support,
      COUNTERSIGN_MCP_PROGRESS_SECONDS: "0.5",
    });
    const waiting = call(
      client,
      "request_approval",
      { ...REFUND, wait_seconds: 60 },
      { onprogress: () => {}, timeout: 5_000, resetTimeoutOnProgress: true },
    );
    const id = await eventually(async () => (await requestIds(first))[0]);
    await eventually(async () => (await first.service.deps.store.getRequest(id))?.slackTs);
    await first.stop();
    await sleep(1_000); // the server's long-poll fails, it backs off and retries
    const second = await harness(cleanups, { dbPath, slack, clock, port });
    await second.click("U0LEAD1", "approve", id);
    expect((await waiting).structured).toMatchObject({ id, status: "approved" });
    expect(await storedRequests(second)).toBe(1);
  }, 30_000);

  // Wall-clock time, once: it is about the protocol, not the database (the SQLite project only).
  it.skipIf(onPostgres)(
    "a true 90 s wait: the SDK client's default 60 s timeout, reset by progress every 10 s (the bin's default) → approved at 90 s",
    async () => {
      const h = await harness(cleanups);
      const client = await session(cleanups, { COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support });
      const progress: Progress[] = [];
      const approving = approveOnlyRequestAfter(h, 90_000);
      const started = performance.now();
      const answer = await call(
        client,
        "request_approval",
        { ...REFUND, wait_seconds: 300 },
        { onprogress: (p) => progress.push(p), resetTimeoutOnProgress: true },
      );
      const id = await approving;
      expect(performance.now() - started).toBeGreaterThan(90_000);
      expect(answer.structured).toMatchObject({ id, status: "approved" });
      expect(progress.length).toBeGreaterThanOrEqual(9);
    },
    150_000,
  );
});
