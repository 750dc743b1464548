import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { eventually, REFUND } from "../support/harness.ts";
import { type ApiHarness, expectError, issuePaths, rawRequest, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeEach(async () => {
  h = await startApi();
});
afterEach(async () => {
  await h?.stop();
});

const SMALL = { ...REFUND, params: { amount: 20, currency: "USD" } };
const DROP = { action: "db.drop_table", summary: "Drop orders", params: { table: "orders" } };

describe("POST /v1/requests/:id/cancel", () => {
  it("pending → 200 cancelled / cancelled_by_agent, decided_at = now, audited", async () => {
    const created = await h.create(REFUND);
    h.clock.advance(65_432);
    const res = await h.api("POST", `/v1/requests/${created.json.id}/cancel`, {});
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: created.json.id,
      status: "cancelled",
      resolution: "cancelled_by_agent",
      decided_at: "2026-11-22T10:01:05.432Z",
    });
    expect(await h.auditEvents(created.json.id)).toContain("cancelled");
    const got = await h.api("GET", `/v1/requests/${created.json.id}`);
    expect(got.json).toMatchObject({ status: "cancelled", resolution: "cancelled_by_agent" });
  });

  it("pending → cancel with a reason → 200 cancelled, the reason in the audit detail", async () => {
    const created = await h.create(REFUND);
    const res = await h.api("POST", `/v1/requests/${created.json.id}/cancel`, {
      reason: "customer withdrew",
    });
    expect(res.status).toBe(200);
    const audit = (await h.service.deps.store.auditFor(created.json.id)).find((a) => a.event === "cancelled");
    expect(JSON.parse(audit?.detail ?? "{}")).toMatchObject({ reason: "customer withdrew" });
  });

  it("pending → cancel with no body and no Content-Type → 200 cancelled", async () => {
    const created = await h.create(REFUND);
    const res = await rawRequest(h.url, {
      method: "POST",
      path: `/v1/requests/${created.json.id}/cancel`,
      headers: { authorization: `Bearer ${TOKENS.support}` },
    });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("cancelled");
  });

  it("cancel with an unknown body key → 400 invalid_request at that key, request still pending", async () => {
    const created = await h.create(REFUND);
    const before = await h.baseline();
    const res = await h.api("POST", `/v1/requests/${created.json.id}/cancel`, { why: "x" });
    expect(issuePaths(res)).toEqual(["why"]);
    expect(await h.counts()).toEqual(before);
    expect((await h.service.deps.store.getRequest(created.json.id))?.status).toBe("pending");
  });

  it("cancelled → second cancel → 409 conflict, nothing stored", async () => {
    const created = await h.create(REFUND);
    expect((await h.api("POST", `/v1/requests/${created.json.id}/cancel`, {})).status).toBe(200);
    const before = await h.baseline();
    const res = await h.api("POST", `/v1/requests/${created.json.id}/cancel`, {});
    const error = expectError(res, 409, "conflict");
    expect(error.message).toContain("cancelled");
    expect(await h.counts()).toEqual(before);
  });

  it.each([
    ["approved by policy", SMALL, "approved"],
    ["rejected by policy", DROP, "rejected"],
  ])("%s → cancel → 409 conflict, status unchanged, nothing stored", async (_name, body, status) => {
    const created = await h.create(body);
    expect(created.json.status).toBe(status);
    const before = await h.baseline();
    const res = await h.api("POST", `/v1/requests/${created.json.id}/cancel`, {});
    expectError(res, 409, "conflict");
    expect(await h.counts()).toEqual(before);
    expect((await h.api("GET", `/v1/requests/${created.json.id}`)).json.status).toBe(status);
  });

  it("expired → cancel → 409 conflict", async () => {
    const created = await h.create({ ...REFUND, ttl: "90s" });
    h.clock.advance(90_000);
    await h.service.sweepNow();
    const before = await h.baseline();
    const res = await h.api("POST", `/v1/requests/${created.json.id}/cancel`, {});
    expectError(res, 409, "conflict");
    expect(await h.counts()).toEqual(before);
  });
});

describe("POST /v1/requests/:id/outcome", () => {
  it("approved by policy → outcome succeeded → 200 with outcome {status, detail, at}, audited", async () => {
    const created = await h.create(SMALL);
    h.clock.advance(1_250);
    const res = await h.api("POST", `/v1/requests/${created.json.id}/outcome`, {
      status: "succeeded",
      detail: "refund re_123 issued",
    });
    expect(res.status).toBe(200);
    expect(res.json.outcome).toEqual({
      status: "succeeded",
      detail: "refund re_123 issued",
      at: "2026-11-22T10:00:01.250Z",
    });
    expect(res.json.status).toBe("approved");
    expect(await h.auditEvents(created.json.id)).toEqual(["created", "approved", "outcome"]);
    const got = await h.api("GET", `/v1/requests/${created.json.id}`);
    expect(got.json.outcome).toEqual(res.json.outcome);
  });

  it("approved → outcome failed without detail → 200, detail null", async () => {
    const created = await h.create(SMALL);
    const res = await h.api("POST", `/v1/requests/${created.json.id}/outcome`, { status: "failed" });
    expect(res.status).toBe(200);
    expect(res.json.outcome).toEqual({ status: "failed", detail: null, at: "2026-11-22T10:00:00.000Z" });
  });

  it("approved by a human click → outcome → 200", async () => {
    const created = await h.create(REFUND);
    await eventually(async () => (await h.service.deps.store.getRequest(created.json.id))?.slackTs);
    expect(await h.click("U0LEAD1", "approve", created.json.id)).toBe(200);
    await eventually(
      async () => (await h.service.deps.store.getRequest(created.json.id))?.status === "approved",
    );
    const res = await h.api("POST", `/v1/requests/${created.json.id}/outcome`, { status: "succeeded" });
    expect(res.status).toBe(200);
    expect(res.json.outcome.status).toBe("succeeded");
    expect(res.json.resolution).toBe("approved_by_humans");
  });

  it("outcome reported → second outcome → 409 conflict, first outcome kept, nothing stored", async () => {
    const created = await h.create(SMALL);
    const first = await h.api("POST", `/v1/requests/${created.json.id}/outcome`, {
      status: "succeeded",
      detail: "ok",
    });
    expect(first.status).toBe(200);
    const before = await h.baseline();
    h.clock.advance(1000);
    const second = await h.api("POST", `/v1/requests/${created.json.id}/outcome`, {
      status: "failed",
      detail: "oops",
    });
    expectError(second, 409, "conflict");
    expect(await h.counts()).toEqual(before);
    expect((await h.api("GET", `/v1/requests/${created.json.id}`)).json.outcome).toEqual(first.json.outcome);
  });

  it("pending → outcome → 409 conflict, nothing stored", async () => {
    const created = await h.create(REFUND);
    const before = await h.baseline();
    const res = await h.api("POST", `/v1/requests/${created.json.id}/outcome`, { status: "succeeded" });
    const error = expectError(res, 409, "conflict");
    expect(error.message).toContain("pending");
    expect(await h.counts()).toEqual(before);
  });

  it.each([
    ["rejected by policy", DROP],
    ["cancelled", null],
  ])("%s → outcome → 409 conflict, nothing stored", async (_name, body) => {
    const created = await h.create(body ?? REFUND);
    if (body === null) await h.api("POST", `/v1/requests/${created.json.id}/cancel`, {});
    const before = await h.baseline();
    const res = await h.api("POST", `/v1/requests/${created.json.id}/outcome`, { status: "failed" });
    expectError(res, 409, "conflict");
    expect(await h.counts()).toEqual(before);
  });

  it.each([
    ["status not in the enum", { status: "done" }, ["status"]],
    ["status missing", { detail: "x" }, ["status"]],
    ["status wrong case", { status: "Succeeded" }, ["status"]],
    ["detail not a string", { status: "succeeded", detail: 42 }, ["detail"]],
    ["unknown key", { status: "succeeded", result: "ok" }, ["result"]],
  ])(
    "approved → outcome with %s → 400 invalid_request naming the path, nothing stored",
    async (_name, body, paths) => {
      const created = await h.create(SMALL);
      const before = await h.baseline();
      const res = await h.api("POST", `/v1/requests/${created.json.id}/outcome`, body);
      expect(issuePaths(res)).toEqual(paths);
      expect(await h.counts()).toEqual(before);
      expect((await h.api("GET", `/v1/requests/${created.json.id}`)).json.outcome).toBeNull();
    },
  );

  it("approved → outcome with an empty body → 400 invalid_json", async () => {
    const created = await h.create(SMALL);
    const res = await h.api("POST", `/v1/requests/${created.json.id}/outcome`, undefined, {
      raw: "",
      headers: { "content-type": "application/json" },
    });
    expectError(res, 400, "invalid_json");
  });
});
