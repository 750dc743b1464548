import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import {
  CountersignApiError,
  CountersignClient,
  CountersignConnectionError,
} from "../../clients/typescript/src/index.ts";
import { argsHash } from "../../src/domain/canonical-json.ts";
import { useCleanups } from "../support/cleanups.ts";
import { CONTRACT_EXAMPLE } from "../support/contract-example.ts";
import { eventually } from "../support/harness.ts";
import { clientFor, harness, REFUND, storedRequests } from "./helpers.ts";

const cleanups = useCleanups();

describe("CountersignClient against the real service over HTTP", () => {
  it("createRequest → 201 resource; same Idempotency-Key + body → replayed, nothing new stored", async () => {
    const h = await harness(cleanups);
    const client = clientFor(h);
    const first = await client.createRequest(REFUND, { idempotencyKey: "step-1" });
    expect(first.replayed).toBe(false);
    expect(first.request).toMatchObject({
      status: "pending",
      action: "refund.issue",
      agent: "support-bot",
      policy: "medium-refunds",
      args_hash: argsHash(REFUND.params),
    });
    const again = await client.createRequest(REFUND, { idempotencyKey: "step-1" });
    expect(again.replayed).toBe(true);
    expect(again.request.id).toBe(first.request.id);
    expect(await storedRequests(h)).toBe(1);
  });

  it("the CONTRACT §3 example body, every field set, is accepted as the client types it", async () => {
    const h = await harness(cleanups);
    const { request } = await clientFor(h).createRequest({
      ...CONTRACT_EXAMPLE,
      callback_url: "https://agent.example.com/hooks/approvals",
      risk: { tier: "medium", score: 62, reasons: ["amount over $50"] },
      evidence: [{ title: "Proposed reply", text: "Hi Dana", format: "markdown" }],
    });
    expect(request).toMatchObject({ run_id: "run_7f3a", on_behalf_of: "U0REQUESTER", status: "pending" });
  });

  it("same key, other body → CountersignApiError idempotency_conflict 409", async () => {
    const h = await harness(cleanups);
    const client = clientFor(h);
    await client.createRequest(REFUND, { idempotencyKey: "k" });
    const error = await client
      .createRequest({ ...REFUND, summary: "another" }, { idempotencyKey: "k" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CountersignApiError);
    expect(error).toMatchObject({ code: "idempotency_conflict", status: 409 });
  });

  it("invalid body → invalid_request 400 with the API's issues naming the field, nothing stored", async () => {
    const h = await harness(cleanups);
    const error = await clientFor(h)
      // @ts-expect-error params is required: the type refuses what the API refuses
      .createRequest({ action: "refund.issue", summary: "no params" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CountersignApiError);
    const apiError = error as CountersignApiError;
    expect(apiError.code).toBe("invalid_request");
    expect(apiError.status).toBe(400);
    expect(apiError.issues.map((i) => i.path)).toContain("params");
    expect(apiError.message.length).toBeGreaterThan(0);
    expect(await storedRequests(h)).toBe(0);
  });

  it("no matching policy → no_matching_policy 422; wrong token → unauthorized 401; unknown id → not_found 404", async () => {
    const h = await harness(cleanups);
    const client = clientFor(h);
    await expect(client.createRequest({ ...REFUND, action: "email.send" })).rejects.toMatchObject({
      code: "no_matching_policy",
      status: 422,
    });
    await expect(clientFor(h, "not-a-token").getRequest("req_nope")).rejects.toMatchObject({
      code: "unauthorized",
      status: 401,
    });
    await expect(client.getRequest("req_nope")).rejects.toMatchObject({ code: "not_found", status: 404 });
  });

  it("getRequest with wait holds until a decision; cancelRequest → cancelled; cancel again → conflict", async () => {
    const h = await harness(cleanups);
    const client = clientFor(h);
    const { request } = await client.createRequest(REFUND);
    await eventually(async () => (await h.service.deps.store.getRequest(request.id))?.slackTs);
    const waiting = client.getRequest(request.id, { wait: 10 });
    await new Promise((r) => setTimeout(r, 100));
    await h.click("U0LEAD1", "approve", request.id);
    const decided = await waiting;
    expect(decided.status).toBe("approved");
    expect(decided.decisions[0]?.approver.slack_user_id).toBe("U0LEAD1");

    const other = await client.createRequest({ ...REFUND, summary: "second" });
    const cancelled = await client.cancelRequest(other.request.id, { reason: "no longer needed" });
    expect(cancelled).toMatchObject({ status: "cancelled", resolution: "cancelled_by_agent" });
    await expect(client.cancelRequest(other.request.id)).rejects.toMatchObject({
      code: "conflict",
      status: 409,
    });
  });

  it("listRequests → the agent's own requests, newest first, by status, a page at a time; requests() walks every page", async () => {
    const h = await harness(cleanups);
    const client = clientFor(h);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push((await client.createRequest({ ...REFUND, summary: `refund ${i}` })).request.id);
      h.clock.advance(1000);
    }
    await client.cancelRequest(ids[0]!);
    const first = await client.listRequests({ status: "pending", limit: 2 });
    expect(first.data.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await client.listRequests({ status: "pending", limit: 2, cursor: first.next_cursor! });
    expect(second.data.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const all: string[] = [];
    for await (const r of client.requests({ limit: 2 })) all.push(r.id);
    expect(all).toEqual([...ids].reverse());
    expect((await client.listRequests({ status: "cancelled" })).data.map((r) => r.id)).toEqual([ids[0]]);
    await expect(client.listRequests({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(client.listRequests({ status: "nope" as "pending" })).rejects.toMatchObject({
      code: "invalid_request",
      status: 400,
    });
  });

  it("reportOutcome once on an approved request; a second time → conflict", async () => {
    const h = await harness(cleanups);
    const client = clientFor(h);
    const { request } = await client.createRequest({ ...REFUND, params: { amount: 20, currency: "USD" } });
    expect(request.status).toBe("approved");
    const reported = await client.reportOutcome(request.id, { status: "succeeded", detail: "refund 991" });
    expect(reported.outcome).toMatchObject({ status: "succeeded", detail: "refund 991" });
    await expect(client.reportOutcome(request.id, { status: "failed" })).rejects.toMatchObject({
      code: "conflict",
    });
  });

  it("an unreachable service → CountersignConnectionError naming the URL; wait outside 0–60 → RangeError, no call", async () => {
    const client = new CountersignClient({ baseUrl: "http://127.0.0.1:1", token: "t" });
    const error = await client.getRequest("req_x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CountersignConnectionError);
    expect(String((error as Error).message)).toContain("http://127.0.0.1:1/v1/requests/req_x");
    await expect(client.getRequest("req_x", { wait: 61 })).rejects.toBeInstanceOf(RangeError);
  });

  it("listEvents → GET /v1/requests/:id/events with the bearer token (CONTRACT §7; the service adds it in issue 12)", async () => {
    const seen: { url?: string; auth?: string } = {};
    const events = [
      { seq: 1, at: "2026-11-22T10:00:00.000Z", event: "created", actor: "agent:support-bot", detail: null },
    ];
    const server = createServer((req, res) => {
      seen.url = req.url;
      seen.auth = req.headers.authorization;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(events));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = new CountersignClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      token: "tok",
    });
    await expect(client.listEvents("req_abc")).resolves.toEqual(events);
    expect(seen).toEqual({ url: "/v1/requests/req_abc/events", auth: "Bearer tok" });
  });
});
