import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REFUND } from "../support/harness.ts";
import { type ApiHarness, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeEach(async () => {
  h = await startApi();
});
afterEach(async () => {
  await h?.stop();
});

describe("GET /healthz", () => {
  it("database answers → 200 {ok: true}, JSON, no token needed", async () => {
    const res = await h.api("GET", "/healthz", undefined, { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.json).toEqual({ ok: true });
  });
});

describe("GET /metrics", () => {
  it("→ 200 Prometheus text with request counts by status and the time-to-decision histogram", async () => {
    const pending = await h.create(REFUND);
    await h.create({ ...REFUND, params: { amount: 10 } });
    h.clock.advance(3_000);
    expect((await h.api("POST", `/v1/requests/${pending.json.id}/cancel`, {})).status).toBe(200);

    const res = await h.api("GET", "/metrics", undefined, { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.json as string;
    expect(typeof text).toBe("string");
    expect(text).toContain("countersign_requests{");
    expect(text).toContain("countersign_time_to_decision_seconds_bucket");
    expect(text).toMatch(/^countersign_requests\{status="approved",resolution="approved_by_policy"\} 1$/m);
    expect(text).toMatch(/^countersign_requests\{status="cancelled",resolution="cancelled_by_agent"\} 1$/m);
    expect(text).toMatch(/^countersign_requests\{status="pending",resolution="none"\} 0$/m);
    // the cancel came 3 s after creation: outside the 1 s bucket, inside the 5 s one
    expect(text).toMatch(
      /^countersign_time_to_decision_seconds_bucket\{le="1",resolution="cancelled_by_agent",decided_by="agent"\} 0$/m,
    );
    expect(text).toMatch(
      /^countersign_time_to_decision_seconds_bucket\{le="5",resolution="cancelled_by_agent",decided_by="agent"\} 1$/m,
    );
    expect(text).toMatch(
      /^countersign_time_to_decision_seconds_sum\{resolution="cancelled_by_agent",decided_by="agent"\} 3$/m,
    );
  });
});
