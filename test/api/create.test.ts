import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { CONTRACT_EXAMPLE } from "../support/contract-example.ts";
import { REFUND } from "../support/harness.ts";
import { type ApiHarness, ARGS_HASH, expectError, ISO_MS_UTC, sha256Hex, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeEach(async () => {
  h = await startApi();
});
afterEach(async () => {
  await h?.stop();
});

const T0 = Date.parse("2026-11-22T10:00:00.000Z");
const MIN = 60_000;

const FULL = CONTRACT_EXAMPLE;

const CONTRACT_FIELDS = [
  "id",
  "status",
  "action",
  "summary",
  "target",
  "params",
  "reason",
  "risk",
  "evidence",
  "run_id",
  "on_behalf_of",
  "args_hash",
  "agent",
  "policy",
  "role",
  "approvals_required",
  "decisions",
  "created_at",
  "expires_at",
  "escalated_at",
  "decided_at",
  "resolution",
  "outcome",
  "slack",
];

describe("POST /v1/requests → 201 with the request resource", () => {
  it("a full routed body → 201 pending, every CONTRACT §3 field present with its type and value", async () => {
    h.clock.set(T0 + 123); // milliseconds must survive into the timestamps
    const res = await h.create(FULL);
    expect(res.status).toBe(201);
    const r = res.json;
    for (const field of CONTRACT_FIELDS) expect(r).toHaveProperty(field);

    expect(r.id).toMatch(/^req_[A-Za-z0-9_-]{16,64}$/);
    expect(res.headers.get("location")).toBe(`/v1/requests/${r.id}`);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r).toMatchObject({
      status: "pending",
      action: FULL.action,
      summary: FULL.summary,
      target: FULL.target,
      params: FULL.params,
      reason: FULL.reason,
      risk: FULL.risk,
      evidence: FULL.evidence,
      run_id: "run_7f3a",
      on_behalf_of: "U0REQUESTER",
      callback_url: "https://agent.example.com/hooks/approvals",
      agent: "support-bot",
      policy: "medium-refunds",
      role: "support-lead",
      approvals_required: 1,
      decisions: [],
      escalated_at: null,
      decided_at: null,
      resolution: null,
      outcome: null,
    });
    expect(r.args_hash).toMatch(ARGS_HASH);
    expect(r.args_hash).toBe(`sha256:${sha256Hex('{"amount":75,"currency":"USD","order_id":"48213"}')}`);
    expect(r.created_at).toMatch(ISO_MS_UTC);
    expect(r.expires_at).toMatch(ISO_MS_UTC);
    expect(r.created_at).toBe("2026-11-22T10:00:00.123Z");
    expect(r.expires_at).toBe("2026-11-22T10:20:00.123Z");
    expect(r.slack.channel).toBe("C0SUPPORT");
    expect(r.slack.ts === null || typeof r.slack.ts === "string").toBe(true);
  });

  it("GET after the post → the same resource, slack.ts now the posted message's ts", async () => {
    const created = await h.create(FULL);
    await h.settle();
    const got = await h.api("GET", `/v1/requests/${created.json.id}`);
    expect(got.status).toBe(200);
    const posted = h.slack.messages("C0SUPPORT")[0];
    expect(posted).toBeDefined();
    expect(got.json.slack).toEqual({ channel: "C0SUPPORT", ts: posted?.ts });
    const { slack: _a, ...restGot } = got.json;
    const { slack: _b, ...restCreated } = created.json;
    expect(restGot).toEqual(restCreated);
  });

  it("a minimal body → 201 with absent optional fields as null / []", async () => {
    const res = await h.create({ action: "refund.issue", summary: "Refund", params: { amount: 120 } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      target: null,
      reason: null,
      risk: null,
      evidence: [],
      run_id: null,
      on_behalf_of: null,
      policy: "medium-refunds",
      created_at: "2026-11-22T10:00:00.000Z",
      expires_at: "2026-11-22T10:30:00.000Z",
    });
  });

  it("a 201 stores one request, its created + routed audit and one queued Slack post", async () => {
    const before = await h.baseline();
    const res = await h.create(REFUND);
    expect((await h.counts()).requests).toBe(before.requests + 1);
    await h.settle();
    expect((await h.auditEvents(res.json.id)).slice(0, 2)).toEqual(["created", "routed"]);
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(1);
  });
});

describe("policy decisions", () => {
  it("small refund ($20) → 201 approved / approved_by_policy, decided_at = created_at, no Slack post queued", async () => {
    h.clock.set(T0 + 5);
    const res = await h.create({ ...REFUND, params: { amount: 20, currency: "USD" } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      status: "approved",
      resolution: "approved_by_policy",
      policy: "small-refunds",
      role: null,
      slack: null,
      decisions: [],
      created_at: "2026-11-22T10:00:00.005Z",
      decided_at: "2026-11-22T10:00:00.005Z",
    });
    expect((await h.counts()).slack_outbox).toBe(0);
    await h.settle();
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
    expect(await h.auditEvents(res.json.id)).toEqual(["created", "approved"]);
  });

  it("db.drop_table → 201 rejected / rejected_by_policy, expires_at = decision time (nothing left to decide), no Slack post queued", async () => {
    const res = await h.create({
      action: "db.drop_table",
      summary: "Drop the orders table",
      params: { table: "orders" },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      status: "rejected",
      resolution: "rejected_by_policy",
      policy: "no-deletes",
      role: null,
      slack: null,
      decided_at: "2026-11-22T10:00:00.000Z",
      expires_at: "2026-11-22T10:00:00.000Z",
    });
    await h.settle();
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
    expect(await h.auditEvents(res.json.id)).toEqual(["created", "rejected"]);
  });

  it("the boundary: $50 is not small (lt 50) → medium-refunds, pending", async () => {
    const res = await h.create({ ...REFUND, params: { amount: 50 } });
    expect(res.json).toMatchObject({ status: "pending", policy: "medium-refunds", role: "support-lead" });
  });

  it("large refund ($500) → finance, approvals_required 2, ttl 4h", async () => {
    const res = await h.create({ ...REFUND, params: { amount: 500 } });
    expect(res.json).toMatchObject({
      status: "pending",
      policy: "large-refunds",
      role: "finance",
      approvals_required: 2,
      expires_at: "2026-11-22T14:00:00.000Z",
      slack: { channel: "C0FINANCE" },
    });
  });

  it('policy matching ignores a numeric amount sent as a string: "20" is not lt 50 → large-refunds', async () => {
    const res = await h.create({ ...REFUND, params: { amount: "20" } });
    expect(res.json).toMatchObject({ status: "pending", policy: "large-refunds" });
  });
});

describe("ttl", () => {
  it.each([
    ["20m", 20 * MIN],
    ["90s", 90_000],
    ["30m", 30 * MIN],
    ["1800s", 30 * MIN],
  ])("ttl %s on a 30m policy → expires_at = created_at + that ttl", async (ttl, ms) => {
    const res = await h.create({ ...REFUND, ttl });
    expect(res.status).toBe(201);
    expect(Date.parse(res.json.expires_at) - Date.parse(res.json.created_at)).toBe(ms);
    expect(res.json.expires_at).toBe(new Date(T0 + ms).toISOString());
  });

  it.each(["31m", "2h", "7d", "9999999d"])(
    "ttl %s on a 30m policy → clamped to the policy's 30m",
    async (ttl) => {
      const res = await h.create({ ...REFUND, ttl });
      expect(res.status).toBe(201);
      expect(res.json.expires_at).toBe("2026-11-22T10:30:00.000Z");
    },
  );

  it("a shortened ttl is what the sweep enforces: 90s request expires after 90s, not 30m", async () => {
    const res = await h.create({ ...REFUND, ttl: "90s" });
    h.clock.advance(89_999);
    await h.service.sweepNow();
    expect((await h.api("GET", `/v1/requests/${res.json.id}`)).json.status).toBe("pending");
    h.clock.advance(1);
    await h.service.sweepNow();
    const after = await h.api("GET", `/v1/requests/${res.json.id}`);
    expect(after.json).toMatchObject({ status: "expired", resolution: "approval_timeout" });
  });
});

describe("Idempotency-Key", () => {
  it("same key + same body → 200 with the same id, idempotent-replayed header, still one row", async () => {
    const before = await h.baseline();
    const key = "order-48213-refund";
    const first = await h.create(REFUND, { headers: { "idempotency-key": key } });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    await h.settle();
    const afterFirst = await h.counts();
    expect(afterFirst.requests).toBe(before.requests + 1);

    const second = await h.create(REFUND, { headers: { "idempotency-key": key } });
    expect(second.status).toBe(200);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.json.id).toBe(first.json.id);
    expect(second.json.created_at).toBe(first.json.created_at);
    expect(second.json.args_hash).toBe(first.json.args_hash);
    await h.settle();
    expect(await h.counts()).toEqual(afterFirst);
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(1);
  });

  it("same key + the same body with keys reordered → 200 replay (the body is compared canonically)", async () => {
    const key = "reordered";
    const first = await h.create(REFUND, { headers: { "idempotency-key": key } });
    const reordered = Object.fromEntries(Object.entries(REFUND).reverse());
    reordered.params = { order_id: "48213", currency: "USD", amount: 75 };
    const second = await h.create(reordered, { headers: { "idempotency-key": key } });
    expect(second.status).toBe(200);
    expect(second.json.id).toBe(first.json.id);
  });

  it("same key + a different body → 409 idempotency_conflict, nothing stored", async () => {
    const key = "conflicting";
    await h.create(REFUND, { headers: { "idempotency-key": key } });
    const before = await h.baseline();
    const res = await h.create(
      { ...REFUND, params: { ...REFUND.params, amount: 76 } },
      { headers: { "idempotency-key": key } },
    );
    expectError(res, 409, "idempotency_conflict");
    expect(await h.counts()).toEqual(before);
  });

  it("same key + a body differing only outside params (summary) → 409 idempotency_conflict", async () => {
    const key = "summary-changed";
    await h.create(REFUND, { headers: { "idempotency-key": key } });
    const res = await h.create(
      { ...REFUND, summary: "Something else" },
      { headers: { "idempotency-key": key } },
    );
    expectError(res, 409, "idempotency_conflict");
  });

  it("keys are per agent: deploy-bot reusing support-bot's key → 201, a new request of its own", async () => {
    const key = "shared-key";
    const mine = await h.create(REFUND, { headers: { "idempotency-key": key } });
    const theirs = await h.create(REFUND, { token: TOKENS.deploy, headers: { "idempotency-key": key } });
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.json.id).not.toBe(mine.json.id);
    expect(theirs.json.agent).toBe("deploy-bot");
    // and each agent's replay still finds its own
    const replay = await h.create(REFUND, { token: TOKENS.deploy, headers: { "idempotency-key": key } });
    expect(replay.status).toBe(200);
    expect(replay.json.id).toBe(theirs.json.id);
  });

  it("replay of a policy-decided request → 200 approved_by_policy, same id, nothing new", async () => {
    const small = { ...REFUND, params: { amount: 10 } };
    const key = "small-one";
    const first = await h.create(small, { headers: { "idempotency-key": key } });
    expect(first.json.resolution).toBe("approved_by_policy");
    const before = await h.baseline();
    const second = await h.create(small, { headers: { "idempotency-key": key } });
    expect(second.status).toBe(200);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.json).toEqual(first.json);
    expect(await h.counts()).toEqual(before);
  });

  it("without a key the same body twice → two requests (201, 201)", async () => {
    const a = await h.create(REFUND);
    const b = await h.create(REFUND);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.json.id).not.toBe(b.json.id);
  });
});
