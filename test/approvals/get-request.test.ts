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

  it("waitForDecision: a decision committed while its read is on the way (another replica) still wakes it", async () => {
    h = await startHarness();
    const { id } = (await h.create(REFUND)).json;
    const { deps } = h.service;
    let reads = 0;
    // The first read answers "pending" as it was, and the decision lands (and is announced) meanwhile.
    const racing = {
      ...deps,
      store: {
        ...deps.store,
        getRequest: async (requestId: string) => {
          const row = await deps.store.getRequest(requestId);
          reads += 1;
          if (reads === 1) {
            await h?.click("U0LEAD1", "approve", id);
            // The click's own notice has been sent by now: only a listener registered before the read hears it.
          }
          return row;
        },
      },
    };
    const started = Date.now();
    const result = await waitForDecision(racing, "support-bot", id, 10_000, new AbortController().signal);
    expect(result).toMatchObject({ kind: "found", resource: { status: "approved" } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
