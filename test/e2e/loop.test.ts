import { afterEach, describe, expect, it } from "vitest";
import { eventually, type Harness, REFUND, startHarness } from "../support/harness.ts";

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

describe("the whole approval loop against a fake Slack", () => {
  it("request → evidence pack in the role channel → approve click → message updated → long-poll answers", async () => {
    h = await startHarness();
    const created = await h.create(REFUND);
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(created.json).toMatchObject({ status: "pending", policy: "medium-refunds", role: "support-lead" });

    const posted = await h.slack.waitFor((s) => s.messages("C0SUPPORT")[0]);
    const actions = (
      posted.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]
    ).find((b) => b.type === "actions");
    expect(actions?.elements?.map((e) => [e.action_id, e.value])).toEqual([
      ["approve", id],
      ["reject", id],
    ]);
    await eventually(async () => (await h.service.deps.store.getRequest(id))?.slackTs);

    const poll = h.api("GET", `/v1/requests/${id}?wait=10`);
    const started = Date.now();
    expect(await h.click("U0LEAD1", "approve", id)).toBe(200);
    const answer = await poll;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(answer.json.status).toBe("approved");
    expect(answer.json.resolution).toBe("approved_by_humans");
    expect(answer.json.decisions[0].approver).toEqual({ slack_user_id: "U0LEAD1", name: "u0lead1" });

    await h.settle();
    const updated = h.slack.messages("C0SUPPORT")[0];
    expect(updated?.updates).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(updated?.blocks)).not.toContain('"actions"');
    expect(JSON.stringify(updated?.blocks)).toContain("U0LEAD1");
  });
});
