import { afterEach, describe, expect, it } from "vitest";
import { getRequest, waitForDecision } from "../../src/approvals/get-request.ts";
import { type Harness, REFUND, startHarness } from "../support/harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("read verbs", () => {
  it("getRequest: the agent's own request is found, another agent's is not", async () => {
    h = await startHarness();
    const { id } = (await h.create(REFUND)).json;
    const { deps } = h.service;
    expect(await getRequest(deps, "support-bot", id)).toMatchObject({ kind: "found", resource: { id } });
    expect(await getRequest(deps, "deploy-bot", id)).toEqual({ kind: "not_found" });
    expect(await getRequest(deps, "support-bot", "req_missing")).toEqual({ kind: "not_found" });
  });

  it("waitForDecision: pending + approve click → answers approved before its wait is over", async () => {
    h = await startHarness();
    const { id } = (await h.create(REFUND)).json;
    const waiting = waitForDecision(h.service.deps, "support-bot", id, 30_000, new AbortController().signal);
    await h.click("U0LEAD1", "approve", id);
    const result = await waiting;
    expect(result).toMatchObject({ kind: "found", resource: { status: "approved" } });
  });

  it("waitForDecision: pending + signal aborted → answers at once, still pending", async () => {
    h = await startHarness();
    const { id } = (await h.create(REFUND)).json;
    const abort = new AbortController();
    const waiting = waitForDecision(h.service.deps, "support-bot", id, 30_000, abort.signal);
    abort.abort();
    expect(await waiting).toMatchObject({ kind: "found", resource: { status: "pending" } });
    expect(h.service.deps.events.waiting).toBe(0);
  });

  it("waitForDecision: the fake clock does not move → the real wait still ends after waitMs", async () => {
    h = await startHarness();
    const { id } = (await h.create(REFUND)).json;
    const result = await waitForDecision(h.service.deps, "support-bot", id, 50, new AbortController().signal);
    expect(result).toMatchObject({ kind: "found", resource: { status: "pending" } });
  });
});
