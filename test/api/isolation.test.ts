import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { REFUND } from "../support/harness.ts";
import { type ApiHarness, expectError, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeEach(async () => {
  h = await startApi();
});
afterEach(async () => {
  await h?.stop();
});

describe("an agent sees only its own requests", () => {
  it("deploy-bot GET of support-bot's pending request → 404 not_found", async () => {
    const mine = await h.create(REFUND);
    const res = await h.api("GET", `/v1/requests/${mine.json.id}`, undefined, { token: TOKENS.deploy });
    expectError(res, 404, "not_found");
    expect(JSON.stringify(res.json)).not.toContain("Dana");
  });

  it("deploy-bot GET ?wait=5 of support-bot's request → 404 at once, no long-poll", async () => {
    const mine = await h.create(REFUND);
    const started = Date.now();
    const res = await h.api("GET", `/v1/requests/${mine.json.id}?wait=5`, undefined, {
      token: TOKENS.deploy,
    });
    expectError(res, 404, "not_found");
    expect(Date.now() - started).toBeLessThan(1000);
    expect(h.service.deps.events.waiting).toBe(0);
  });

  it("deploy-bot cancel of support-bot's pending request → 404, request still pending, nothing stored", async () => {
    const mine = await h.create(REFUND);
    const before = await h.baseline();
    const res = await h.api("POST", `/v1/requests/${mine.json.id}/cancel`, {}, { token: TOKENS.deploy });
    expectError(res, 404, "not_found");
    expect(await h.counts()).toEqual(before);
    const own = await h.api("GET", `/v1/requests/${mine.json.id}`);
    expect(own.json).toMatchObject({ status: "pending", resolution: null, decided_at: null });
  });

  it("deploy-bot outcome on support-bot's approved request → 404, outcome still null, nothing stored", async () => {
    const mine = await h.create({ ...REFUND, params: { amount: 10 } });
    expect(mine.json.status).toBe("approved");
    const before = await h.baseline();
    const res = await h.api(
      "POST",
      `/v1/requests/${mine.json.id}/outcome`,
      { status: "succeeded", detail: "done" },
      { token: TOKENS.deploy },
    );
    expectError(res, 404, "not_found");
    expect(await h.counts()).toEqual(before);
    expect((await h.api("GET", `/v1/requests/${mine.json.id}`)).json.outcome).toBeNull();
  });

  it("each agent still reads its own: support-bot 200 on its request, deploy-bot 200 on its request", async () => {
    const mine = await h.create(REFUND);
    const theirs = await h.create(REFUND, { token: TOKENS.deploy });
    expect((await h.api("GET", `/v1/requests/${mine.json.id}`)).json.agent).toBe("support-bot");
    expect(
      (await h.api("GET", `/v1/requests/${theirs.json.id}`, undefined, { token: TOKENS.deploy })).json.agent,
    ).toBe("deploy-bot");
    expectError(await h.api("GET", `/v1/requests/${theirs.json.id}`), 404, "not_found");
  });
});
