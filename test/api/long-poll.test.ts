import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { eventually, REFUND } from "../support/harness.ts";
import { type ApiHarness, expectError, issuePaths, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeEach(async () => {
  h = await startApi();
});
afterEach(async () => {
  await h?.stop();
});

/** Resolves once the server holds `n` long-polls, so a decision cannot race ahead of the wait. */
const polling = (n = 1) => eventually(() => h.service.deps.events.waiting >= n);

describe("GET /v1/requests/:id?wait=N", () => {
  it("pending + ?wait=5, then cancelled → answers cancelled within ~100 ms of the cancel", async () => {
    const created = await h.create(REFUND);
    const started = Date.now();
    let answeredAt = 0;
    const poll = h.api("GET", `/v1/requests/${created.json.id}?wait=5`).then((r) => {
      answeredAt = Date.now();
      return r;
    });
    await polling();
    expect(answeredAt).toBe(0);
    const decidedAt = Date.now();
    expect((await h.api("POST", `/v1/requests/${created.json.id}/cancel`, {})).status).toBe(200);
    const res = await poll;
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: created.json.id,
      status: "cancelled",
      resolution: "cancelled_by_agent",
    });
    expect(answeredAt - decidedAt).toBeLessThan(250);
    expect(answeredAt - started).toBeLessThan(2000);
  });

  it("pending + ?wait=5, then an approver clicks Approve → answers approved well before 5 s", async () => {
    const created = await h.create(REFUND);
    await eventually(async () => (await h.service.deps.store.getRequest(created.json.id))?.slackTs);
    const started = Date.now();
    let answeredAt = 0;
    const poll = h.api("GET", `/v1/requests/${created.json.id}?wait=5`).then((r) => {
      answeredAt = Date.now();
      return r;
    });
    await polling();
    const decidedAt = Date.now();
    expect(await h.click("U0LEAD1", "approve", created.json.id)).toBe(200);
    const res = await poll;
    expect(res.json).toMatchObject({ status: "approved", resolution: "approved_by_humans" });
    expect(res.json.decisions).toHaveLength(1);
    expect(answeredAt - decidedAt).toBeLessThan(1000);
    expect(answeredAt - started).toBeLessThan(2500);
  });

  it("pending + ?wait=5 while two of two finance approvals arrive → still waits after the first, answers after the second", async () => {
    const created = await h.create({ ...REFUND, params: { amount: 500 } });
    await eventually(async () => (await h.service.deps.store.getRequest(created.json.id))?.slackTs);
    let answered = false;
    const poll = h.api("GET", `/v1/requests/${created.json.id}?wait=5`).then((r) => {
      answered = true;
      return r;
    });
    await polling();
    expect(await h.click("U0FIN1", "approve", created.json.id)).toBe(200);
    await eventually(async () => (await h.service.deps.store.decisionsFor(created.json.id)).length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    expect(await h.click("U0FIN2", "approve", created.json.id)).toBe(200);
    const res = await poll;
    expect(res.json).toMatchObject({ status: "approved", resolution: "approved_by_humans" });
    expect(res.json.decisions).toHaveLength(2);
  });

  it("pending + ?wait=1 and nobody decides → 200 pending after ≈1 s", async () => {
    const created = await h.create(REFUND);
    const started = Date.now();
    const res = await h.api("GET", `/v1/requests/${created.json.id}?wait=1`);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: created.json.id, status: "pending", resolution: null });
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(3000);
    expect(h.service.deps.events.waiting).toBe(0);
  });

  it("a final request + ?wait=60 → answers at once", async () => {
    const created = await h.create({ ...REFUND, params: { amount: 10 } });
    expect(created.json.status).toBe("approved");
    const started = Date.now();
    const res = await h.api("GET", `/v1/requests/${created.json.id}?wait=60`);
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("approved");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("no wait → answers at once with the current state", async () => {
    const created = await h.create(REFUND);
    const started = Date.now();
    const res = await h.api("GET", `/v1/requests/${created.json.id}`);
    expect(res.json.status).toBe("pending");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it.each(["0", "61", "abc", "-1", "1.5", "", "3600"])(
    "?wait=%s → 400 invalid_request at path wait",
    async (wait) => {
      const created = await h.create(REFUND);
      const started = Date.now();
      const res = await h.api("GET", `/v1/requests/${created.json.id}?wait=${wait}`);
      expect(issuePaths(res)).toEqual(["wait"]);
      expect(Date.now() - started).toBeLessThan(1000);
    },
  );

  it("?wait=60 on an unknown id → 404 not_found at once", async () => {
    const started = Date.now();
    const res = await h.api("GET", "/v1/requests/req_AAAAAAAAAAAAAAAAAAAAAAAA?wait=60");
    expectError(res, 404, "not_found");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("a client that hangs up mid-wait leaves no waiter behind", async () => {
    const created = await h.create(REFUND);
    const abort = new AbortController();
    const poll = fetch(`${h.url}/v1/requests/${created.json.id}?wait=30`, {
      headers: { authorization: `Bearer ${TOKENS.support}` },
      signal: abort.signal,
    }).catch((e: unknown) => e);
    await polling();
    abort.abort();
    await poll;
    await eventually(() => h.service.deps.events.waiting === 0);
  });
});
