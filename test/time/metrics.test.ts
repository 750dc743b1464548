import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { TOKENS } from "../support/config.ts";
import { eventually, type Harness, REFUND, startHarness, tempDir } from "../support/harness.ts";
import { createPosted, MINUTE, type Receiver } from "./helpers.ts";

const cleanups = useCleanups();

async function scrape(h: Harness): Promise<string> {
  const res = await fetch(`${h.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  return res.text();
}

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A few transitions: one escalated then expired (with a callback retried once), one approved, one cancelled. */
async function transitions(
  h: Harness,
  hook: Receiver,
): Promise<{ expired: string; approved: string; cancelled: string }> {
  const expired = await createPosted(h, { ...REFUND, callback_url: hook.url });
  const approved = await createPosted(h);
  const cancelled = await createPosted(h);
  await h.click("U0LEAD1", "approve", approved);
  await eventually(async () => (await h.service.deps.store.getRequest(approved))?.status === "approved");
  await h.api("POST", `/v1/requests/${cancelled}/cancel`, {});
  h.clock.advance(15 * MINUTE);
  await h.service.sweepNow();
  h.clock.advance(15 * MINUTE);
  await h.service.sweepNow();
  await hook.waitForDeliveries(1);
  const retryAt = await eventually(async () => {
    const row = (await h.service.deps.store.callbacksFor(expired))[0];
    return row?.attempts === 1 ? row.nextAttemptAt : null;
  });
  h.clock.advance(retryAt - h.clock.now());
  await h.settle();
  return { expired, approved, cancelled };
}

describe("/metrics", () => {
  it("escalated + expired, approved, cancelled → counts by status and resolution, escalations, expiries, histogram, outbox depth, callback attempts", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver((_d, n) => (n === 0 ? 500 : 200));
    await transitions(h, hook);
    const text = await scrape(h);

    expect(sample(text, 'countersign_requests{status="expired",resolution="approval_timeout"}')).toBe(1);
    expect(sample(text, 'countersign_requests{status="approved",resolution="approved_by_humans"}')).toBe(1);
    expect(sample(text, 'countersign_requests{status="cancelled",resolution="cancelled_by_agent"}')).toBe(1);
    expect(sample(text, 'countersign_requests{status="pending",resolution="none"}')).toBe(0);
    expect(sample(text, "countersign_escalations_total")).toBe(1);
    expect(sample(text, "countersign_expiries_total")).toBe(1);
    expect(sample(text, "countersign_slack_outbox_depth")).toBe(0);
    expect(sample(text, 'countersign_callback_attempts_total{result="retry"}')).toBe(1);
    expect(sample(text, 'countersign_callback_attempts_total{result="delivered"}')).toBe(1);
    expect(
      sample(
        text,
        'countersign_time_to_decision_seconds_count{resolution="approval_timeout",decided_by="timeout"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'countersign_time_to_decision_seconds_sum{resolution="approval_timeout",decided_by="timeout"}',
      ),
    ).toBe(1800);
    expect(
      sample(
        text,
        'countersign_time_to_decision_seconds_bucket{le="1800",resolution="approval_timeout",decided_by="timeout"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'countersign_time_to_decision_seconds_bucket{le="600",resolution="approval_timeout",decided_by="timeout"}',
      ),
    ).toBe(0);
    expect(
      sample(
        text,
        'countersign_time_to_decision_seconds_count{resolution="approved_by_humans",decided_by="human"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'countersign_time_to_decision_seconds_count{resolution="cancelled_by_agent",decided_by="agent"}',
      ),
    ).toBe(1);
  });

  it("fresh start, no decision yet → the time-to-decision histogram is there, with zero buckets for every resolution", async () => {
    const h = await startHarness();
    cleanups.push(() => h.stop());
    const text = await scrape(h);
    for (const [resolution, by] of [
      ["approved_by_humans", "human"],
      ["approved_by_policy", "policy"],
      ["rejected_by_human", "human"],
      ["rejected_by_policy", "policy"],
      ["approval_timeout", "timeout"],
      ["cancelled_by_agent", "agent"],
    ]) {
      const labels = `resolution="${resolution}",decided_by="${by}"`;
      expect(sample(text, `countersign_time_to_decision_seconds_bucket{le="60",${labels}}`)).toBe(0);
      expect(sample(text, `countersign_time_to_decision_seconds_bucket{le="+Inf",${labels}}`)).toBe(0);
      expect(sample(text, `countersign_time_to_decision_seconds_count{${labels}}`)).toBe(0);
    }
  });

  it("policy approve + policy reject + a human approve → time to decision counts all three, by decided_by", async () => {
    const h = await startHarness();
    cleanups.push(() => h.stop());
    expect((await h.api("POST", "/v1/requests", { ...REFUND, params: { amount: 20 } })).status).toBe(201);
    expect((await h.api("POST", "/v1/requests", { ...REFUND, params: { amount: 10 } })).status).toBe(201);
    expect(
      (await h.api("POST", "/v1/requests", { action: "db.drop_table", summary: "drop", params: {} })).status,
    ).toBe(201);
    const human = await createPosted(h);
    h.clock.advance(90_000);
    await h.click("U0LEAD1", "approve", human);
    await eventually(async () => (await h.service.deps.store.getRequest(human))?.status === "approved");
    const text = await scrape(h);
    const count = (labels: string) => sample(text, `countersign_time_to_decision_seconds_count{${labels}}`);
    expect(count('resolution="approved_by_policy",decided_by="policy"')).toBe(2);
    expect(count('resolution="rejected_by_policy",decided_by="policy"')).toBe(1);
    expect(count('resolution="approved_by_humans",decided_by="human"')).toBe(1);
    expect(
      sample(
        text,
        'countersign_time_to_decision_seconds_bucket{le="1",resolution="approved_by_policy",decided_by="policy"}',
      ),
    ).toBe(2);
    expect(
      sample(
        text,
        'countersign_time_to_decision_seconds_sum{resolution="approved_by_humans",decided_by="human"}',
      ),
    ).toBe(90);
  });

  it("Slack failing + a cancel → outbox depth shows the waiting update", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    await h.settle();
    h.slack.failNext("chat.update", { error: "internal_error", times: 1000 });
    await h.api("POST", `/v1/requests/${id}/cancel`, {});
    await h.slack.waitFor((s) => s.callsTo("chat.update").length > 0);
    const text = await scrape(h);
    expect(sample(text, "countersign_slack_outbox_depth")).toBe(1);
    expect(sample(text, 'countersign_requests{status="cancelled",resolution="cancelled_by_agent"}')).toBe(1);
  });

  it("callback answered 410 → counted as gone", async () => {
    const h = await cleanups.harness();
    const hook = await cleanups.receiver(() => 410);
    const id = await createPosted(h, { ...REFUND, callback_url: hook.url });
    await h.api("POST", `/v1/requests/${id}/cancel`, {});
    await eventually(async () => (await h.service.deps.store.callbacksFor(id))[0]?.failedAt);
    const text = await scrape(h);
    expect(sample(text, 'countersign_callback_attempts_total{result="gone"}')).toBe(1);
    expect(sample(text, "countersign_callbacks_pending")).toBe(0);
  });

  it("transitions + restart on the same database → counts by status survive", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dbPath = join(t.dir, "countersign.db");
    const clock = new FakeClock();
    const slack = await cleanups.fakeSlack();
    const hook = await cleanups.receiver((_d, n) => (n === 0 ? 500 : 200));
    const first = await startHarness({ dbPath, clock, slack });
    await transitions(first, hook);
    const pending = await createPosted(first);
    await first.settle();
    await first.stop();

    const second = await cleanups.harness({ dbPath, clock, slack });
    const text = await scrape(second);
    expect(sample(text, 'countersign_requests{status="expired",resolution="approval_timeout"}')).toBe(1);
    expect(sample(text, 'countersign_requests{status="approved",resolution="approved_by_humans"}')).toBe(1);
    expect(sample(text, 'countersign_requests{status="pending",resolution="none"}')).toBe(1);

    // And they keep moving from there.
    clock.advance(30 * MINUTE);
    await second.service.sweepNow();
    expect((await second.service.deps.store.getRequest(pending))?.status).toBe("expired");
    const after = await scrape(second);
    expect(sample(after, 'countersign_requests{status="expired",resolution="approval_timeout"}')).toBe(2);
    expect(sample(after, 'countersign_requests{status="pending",resolution="none"}')).toBe(0);
  });
});

describe("/metrics by policy and action glob", () => {
  it("fresh start → every configured policy's series exist at zero, labelled with its action glob, nothing per raw action", async () => {
    const h = await cleanups.harness();
    const text = await scrape(h);
    const finalized = (labels: string) => sample(text, `countersign_requests_finalized_total{${labels}}`);
    expect(
      finalized(
        'policy="small-refunds",action="refund.*",resolution="approved_by_policy",decided_by="policy"',
      ),
    ).toBe(0);
    expect(
      finalized('policy="no-deletes",action="db.drop*",resolution="rejected_by_policy",decided_by="policy"'),
    ).toBe(0);
    expect(
      finalized(
        'policy="medium-refunds",action="refund.*",resolution="approval_timeout",decided_by="timeout"',
      ),
    ).toBe(0);
    expect(
      sample(
        text,
        'countersign_requests_created_total{policy="large-refunds",action="refund.*",route="human"}',
      ),
    ).toBe(0);
    // A policy that decides itself never routes to a human: no such series.
    expect(text).not.toContain('policy="small-refunds",action="refund.*",route="human"');
  });

  it("policy approve, policy reject, human approve, timeout → counted per policy and glob; raw actions never become labels", async () => {
    const h = await cleanups.harness();
    const refund = (amount: number) => ({ ...REFUND, action: `refund.issue_${amount}`, params: { amount } });
    expect((await h.api("POST", "/v1/requests", refund(20))).status).toBe(201);
    expect(
      (await h.api("POST", "/v1/requests", { action: "db.drop_table", summary: "drop", params: {} })).status,
    ).toBe(201);
    const approved = await createPosted(h, refund(75));
    const expired = await createPosted(h, refund(80));
    await h.click("U0LEAD1", "approve", approved);
    await eventually(async () => (await h.service.deps.store.getRequest(approved))?.status === "approved");
    h.clock.advance(30 * MINUTE);
    await h.service.sweepNow();
    expect((await h.service.deps.store.getRequest(expired))?.status).toBe("expired");

    const text = await scrape(h);
    const finalized = (labels: string) => sample(text, `countersign_requests_finalized_total{${labels}}`);
    expect(
      finalized(
        'policy="small-refunds",action="refund.*",resolution="approved_by_policy",decided_by="policy"',
      ),
    ).toBe(1);
    expect(
      finalized('policy="no-deletes",action="db.drop*",resolution="rejected_by_policy",decided_by="policy"'),
    ).toBe(1);
    expect(
      finalized(
        'policy="medium-refunds",action="refund.*",resolution="approved_by_humans",decided_by="human"',
      ),
    ).toBe(1);
    expect(
      finalized(
        'policy="medium-refunds",action="refund.*",resolution="approval_timeout",decided_by="timeout"',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'countersign_requests_created_total{policy="medium-refunds",action="refund.*",route="human"}',
      ),
    ).toBe(2);
    expect(
      sample(
        text,
        'countersign_requests_created_total{policy="small-refunds",action="refund.*",route="policy"}',
      ),
    ).toBe(1);
    expect(text).not.toContain("refund.issue_");
  });
});

describe("countersign_oldest_pending_age_seconds (from the database at scrape time)", () => {
  it("none pending → 0; two agents' pending requests → the oldest of all; decided → the next oldest; all decided → 0", async () => {
    const h = await cleanups.harness();
    expect(sample(await scrape(h), "countersign_oldest_pending_age_seconds")).toBe(0);

    const created = await h.create({ ...REFUND, params: { amount: 75 } }, { token: TOKENS.deploy });
    expect(created.status).toBe(201);
    expect(created.json.agent).toBe("deploy-bot");
    const first = created.json.id as string;
    await eventually(async () => (await h.service.deps.store.getRequest(first))?.slackTs);
    h.clock.advance(90_000);
    const second = await createPosted(h);
    h.clock.advance(30_000);
    const both = await scrape(h);
    expect(sample(both, "countersign_oldest_pending_age_seconds")).toBe(120);
    expect(sample(both, "countersign_pending_requests")).toBe(2);

    await h.click("U0LEAD1", "approve", first);
    await eventually(async () => (await h.service.deps.store.getRequest(first))?.status === "approved");
    expect(sample(await scrape(h), "countersign_oldest_pending_age_seconds")).toBe(30);

    await h.api("POST", `/v1/requests/${second}/cancel`, {});
    const none = await scrape(h);
    expect(sample(none, "countersign_oldest_pending_age_seconds")).toBe(0);
    expect(sample(none, "countersign_pending_requests")).toBe(0);
  });

  it("another replica's pending request (written straight to the shared database) → counted, although this process never saw it", async () => {
    const h = await cleanups.harness();
    const id = await createPosted(h);
    // As if another process had created it: only the database knows.
    const row = await h.service.deps.store.getRequest(id);
    await h.service.deps.store.insertRequest({
      ...row!,
      id: "req_from_another_replica",
      agent: "agent-of-another-replica",
      createdAt: h.clock.now() - 600_000,
      idempotencyKey: null,
    });
    const text = await scrape(h);
    expect(sample(text, "countersign_oldest_pending_age_seconds")).toBe(600);
    expect(sample(text, "countersign_pending_requests")).toBe(2);
  });
});
