import { afterEach, describe, expect, it } from "vitest";
import type { FakeSlack } from "../../src/fake-slack/slack-api.ts";
import { runCli } from "../cli/run.ts";
import { LARGE_REFUND } from "../slack-flow/helpers.ts";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { TEST_CONFIG_YAML, TOKENS } from "../support/config.ts";
import { eventually, type Harness, postgresUrlFor, REFUND } from "../support/harness.ts";
import { freshPostgresUrl, onPostgres } from "../support/postgres.ts";
import {
  api,
  clickOn,
  type HeldDelivery,
  query,
  type Replica,
  startHoldingReceiver,
  startReplica,
  startSlackTap,
  stopReplicas,
} from "../support/replicas.ts";
import { createPosted } from "../support/requests.ts";

/**
 * Issue 14: several replicas on ONE PostgreSQL database and ONE fake Slack.
 * In-process replicas are harnesses sharing a database key (harness.ts maps
 * the same dbPath to the same database); replicas that must die by SIGKILL,
 * or run the real cron sweep, are child processes (test/support/replicas.ts).
 */
const cleanups = useCleanups();
afterEach(stopReplicas);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let keys = 0;
/** `n` in-process replicas on one new database, one fake Slack and one clock. */
async function inProcessReplicas(n: number): Promise<{ replicas: Harness[]; slack: FakeSlack; url: string }> {
  const slack = await cleanups.fakeSlack();
  const clock = new FakeClock();
  keys += 1;
  const dbPath = `replicas-${process.pid}-${keys}`;
  const replicas: Harness[] = [];
  for (let i = 0; i < n; i += 1) replicas.push(await cleanups.harness({ slack, clock, dbPath }));
  return { replicas, slack, url: await postgresUrlFor(dbPath) };
}

async function auditCount(url: string, id: string, event: string): Promise<number> {
  const rows = await query<{ n: string }>(
    url,
    "SELECT count(*) AS n FROM audit_log WHERE request_id = $1 AND event = $2",
    [id, event],
  );
  return Number(rows[0]?.n);
}

async function settleAll(h: Harness): Promise<void> {
  await h.settle(15_000);
}

describe.skipIf(!onPostgres)("several replicas on one PostgreSQL", () => {
  it("concurrent Approve clicks on two replicas → one final decision, one `approved` event, the loser told it is already final; one approver clicking on both counts once", async () => {
    const { replicas, slack, url } = await inProcessReplicas(2);
    const [a, b] = replicas as [Harness, Harness];

    // Four single-approval requests, each clicked by two approvers at the same instant on A and on B.
    const ids = await Promise.all([0, 1, 2, 3].map((i) => createPosted(i % 2 === 0 ? a : b)));
    const statuses = await Promise.all(
      ids.flatMap((id) => [a.click("U0LEAD1", "approve", id), b.click("U0LEAD2", "approve", id)]),
    );
    expect(statuses).toEqual(ids.flatMap(() => [200, 200]));
    for (const id of ids) {
      await eventually(
        async () =>
          (await auditCount(url, id, "vote_approve")) + (await auditCount(url, id, "late_click")) === 2,
        8000,
      );
    }
    await settleAll(a);

    for (const id of ids) {
      const [row] = await query<{ status: string; resolution: string }>(
        url,
        "SELECT status, resolution FROM requests WHERE id = $1",
        [id],
      );
      expect(row).toEqual({ status: "approved", resolution: "approved_by_humans" });
      const votes = await query<{ approver_id: string; decision: string }>(
        url,
        "SELECT approver_id, decision FROM decisions WHERE request_id = $1",
        [id],
      );
      expect(votes).toHaveLength(1);
      const winner = votes[0]!.approver_id;
      const loser = winner === "U0LEAD1" ? "U0LEAD2" : "U0LEAD1";
      expect(await auditCount(url, id, "approved")).toBe(1);
      expect(await auditCount(url, id, "vote_approve")).toBe(1);
      expect(await auditCount(url, id, "late_click")).toBe(1);
      const [message] = await query<{ slack_ts: string }>(
        url,
        "SELECT slack_ts FROM requests WHERE id = $1",
        [id],
      );
      const told = slack.ephemerals("C0SUPPORT", loser).filter((e) => e.text.includes(`<@${winner}>`));
      expect(told.length, `loser ${loser} of ${id} (${message?.slack_ts})`).toBeGreaterThanOrEqual(1);
      expect(told.every((e) => /already approved by/.test(e.text))).toBe(true);
    }
    // Exactly one ephemeral per losing click, none to a winner.
    expect(slack.ephemerals("C0SUPPORT")).toHaveLength(ids.length);

    // Two approvals needed: the same approver clicking on A and B at once counts once.
    const large = await createPosted(a, LARGE_REFUND);
    const twice = await Promise.all([
      a.click("U0FIN1", "approve", large),
      b.click("U0FIN1", "approve", large),
    ]);
    expect(twice).toEqual([200, 200]);
    await eventually(
      async () =>
        (await auditCount(url, large, "vote_approve")) + (await auditCount(url, large, "refused_click")) ===
        2,
      8000,
    );
    await settleAll(b);
    const votes = await query<{ approver_id: string }>(
      url,
      "SELECT approver_id FROM decisions WHERE request_id = $1",
      [large],
    );
    expect(votes.map((v) => v.approver_id)).toEqual(["U0FIN1"]);
    expect(await auditCount(url, large, "refused_click")).toBe(1);
    const [pending] = await query<{ status: string }>(url, "SELECT status FROM requests WHERE id = $1", [
      large,
    ]);
    expect(pending?.status).toBe("pending");
    // …and a second approver on B makes it final, once.
    expect(await b.click("U0FIN2", "approve", large)).toBe(200);
    await eventually(async () => (await auditCount(url, large, "approved")) === 1, 8000);
    await settleAll(a);
    expect(await auditCount(url, large, "approved")).toBe(1);
  });

  it("a replica SIGKILLed with a Slack post and callbacks in flight → its successor finishes: one channel message and one webhook-id per request, queues drained", async () => {
    const slack = await cleanups.fakeSlack();
    const tap = await startSlackTap(slack.url);
    cleanups.push(() => tap.close());
    const hook = await startHoldingReceiver();
    cleanups.push(() => hook.close());
    const databaseUrl = await freshPostgresUrl();
    const [a, b] = (await Promise.all([
      startReplica("A", { databaseUrl, slackUrl: tap.url }),
      startReplica("B", { databaseUrl, slackUrl: slack.url }),
    ])) as [Replica, Replica];

    // Slack is slow: its first posts take 0.5 s (well under the 2 s lease); and A never hears
    // back from its posts (Slack took them, the answer is stuck), so A dies with one in flight.
    slack.delayNext("chat.postMessage", 500, 4);
    tap.withhold("chat.postMessage");
    const N = 30;
    const created = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        api(i % 2 === 0 ? a.base : b.base, "POST", "/v1/requests", {
          ...REFUND,
          summary: `Refund $120 to customer #${i}`,
          callback_url: hook.url,
        }),
      ),
    );
    expect(created.map((c) => c.status)).toEqual(created.map(() => 201));
    const ids = created.map((c) => c.json.id as string);
    // Approve them all, on both replicas, each on its message as Slack shows it (a post whose
    // answer A never got is in Slack all the same; the click carries the message's metadata).
    const shown = (id: string) =>
      slack
        .messages("C0SUPPORT")
        .find(
          (m) =>
            m.thread_ts === undefined &&
            (m.metadata as { event_payload?: { request_id?: string } } | undefined)?.event_payload
              ?.request_id === id,
        );
    await eventually(() => ids.every((id) => shown(id) !== undefined), 15_000);
    const clicks = await Promise.all(
      ids.map((id, i) => {
        const message = shown(id)!;
        return clickOn(i % 2 === 0 ? b.base : a.base, "U0LEAD1", "approve", id, {
          channel: "C0SUPPORT",
          ts: message.ts,
          metadata: message.metadata,
        });
      }),
    );
    expect(clicks).toEqual(ids.map(() => 200));

    // Each replica sends at most 2 callbacks per agent at a time: 4 held means A has 2 in flight.
    await eventually(() => hook.held() >= 4 && tap.inFlight("chat.postMessage") >= 1, 10_000);
    await a.kill();
    // A's two callback connections drop with it (seen by the receiver a moment later).
    await eventually(() => hook.deliveries.filter((d) => d.cut).length >= 2, 5000);
    hook.release();
    const cut = hook.deliveries.filter((d) => d.cut);
    expect(cut).toHaveLength(2);

    // B takes over once A's leases (2 s) run out.
    await eventually(async () => {
      const [q] = await query<{ outbox: string; open: string; total: string }>(
        databaseUrl,
        `SELECT (SELECT count(*) FROM slack_outbox) AS outbox,
                (SELECT count(*) FROM callbacks WHERE delivered_at IS NULL) AS open,
                (SELECT count(*) FROM callbacks) AS total`,
      );
      return q !== undefined && Number(q.outbox) === 0 && Number(q.open) === 0 && Number(q.total) === N;
    }, 25_000);

    const history = slack.messages("C0SUPPORT").filter((m) => m.thread_ts === undefined);
    const requestIdOf = (m: { metadata?: unknown }) =>
      (m.metadata as { event_payload?: { request_id?: string } } | undefined)?.event_payload?.request_id;
    const rows = await query<{ id: string; status: string; slack_ts: string | null }>(
      databaseUrl,
      "SELECT id, status, slack_ts FROM requests",
    );
    expect(rows).toHaveLength(N);
    for (const id of ids) {
      const posted = history.filter((m) => requestIdOf(m) === id);
      expect(posted.length, `channel messages of ${id}`).toBe(1);
      const row = rows.find((r) => r.id === id);
      expect(row).toMatchObject({ status: "approved", slack_ts: posted[0]?.ts });
      expect(await auditCount(databaseUrl, id, "approved")).toBe(1);
    }
    // Every request's callback arrived; all deliveries of one request carry one webhook-id, the stored one.
    const callbacks = await query<{ id: string; request_id: string; delivered_at: string | null }>(
      databaseUrl,
      "SELECT id, request_id, delivered_at FROM callbacks",
    );
    const requestOf = (d: HeldDelivery) => (JSON.parse(d.body) as { data?: { id?: string } }).data?.id;
    for (const id of ids) {
      const deliveries = hook.deliveries.filter((d) => requestOf(d) === id);
      expect(deliveries.filter((d) => d.answered).length, `callbacks of ${id}`).toBeGreaterThanOrEqual(1);
      const webhookIds = new Set(deliveries.map((d) => d.headers["webhook-id"]));
      const stored = callbacks.filter((c) => c.request_id === id);
      expect(stored).toHaveLength(1);
      expect([...webhookIds]).toEqual([stored[0]!.id]);
      expect(stored[0]!.delivered_at).not.toBeNull();
    }
    // The two deliveries A died in were sent again by B, with the same webhook-id.
    for (const d of cut) {
      const again = hook.deliveries.filter((x) => requestOf(x) === requestOf(d) && x !== d);
      expect(again.some((x) => x.answered && x.headers["webhook-id"] === d.headers["webhook-id"])).toBe(true);
    }
    // What A had in flight was adopted from the channel by B, not posted again.
    const adopted = b.logs().filter((l) => l.msg === "found the message an earlier attempt posted");
    expect(adopted.length).toBeGreaterThanOrEqual(1);
    expect(b.process.exitCode).toBeNull();
  }, 60_000);

  it("three replicas sweeping every second → each tick claimed once; short-TTL requests expire exactly once", async () => {
    const slack = await cleanups.fakeSlack();
    const databaseUrl = await freshPostgresUrl();
    const yaml = TEST_CONFIG_YAML.replace(
      "policies:\n",
      'policies:\n  - name: quick\n    match: { action: "quick.*" }\n    route: support-lead\n    ttl: 2s\n',
    );
    const replicas = await Promise.all(
      ["A", "B", "C"].map((name) => startReplica(name, { databaseUrl, slackUrl: slack.url, yaml })),
    );
    const started = Date.now();
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api(replicas[i % 3]!.base, "POST", "/v1/requests", { ...REFUND, action: "quick.check" }),
      ),
    );
    expect(created.map((c) => c.status)).toEqual(created.map(() => 201));
    const ids = created.map((c) => c.json.id as string);
    await eventually(async () => {
      const [q] = await query<{ n: string }>(
        databaseUrl,
        "SELECT count(*) AS n FROM requests WHERE status = 'expired'",
      );
      return Number(q?.n) === ids.length;
    }, 15_000);
    // At least four seconds of every replica sweeping every second.
    await sleep(Math.max(0, 4000 - (Date.now() - started)) + 1200);

    for (const id of ids) expect(await auditCount(databaseUrl, id, "expired")).toBe(1);
    const claims = replicas.flatMap((r) =>
      r
        .logs()
        .filter((l) => l.msg === "sweep tick claimed")
        .map((l) => ({ replica: r.name, tick: l.tick })),
    );
    const ticks = claims.map((c) => String(c.tick));
    expect(claims.length).toBeGreaterThanOrEqual(4);
    const repeated = ticks.filter((t, i) => ticks.indexOf(t) !== i);
    expect(repeated, JSON.stringify(claims)).toEqual([]);
    for (const r of replicas) expect(r.process.exitCode, r.stderr.join("")).toBeNull();
  }, 60_000);

  it("a long-poll on replica A is woken by a decision on replica B", async () => {
    const { replicas } = await inProcessReplicas(2);
    const [a, b] = replicas as [Harness, Harness];
    const id = await createPosted(a);
    // Without a cross-replica wake-up A would answer only after wait=30 s: give up (and fail) at 8 s.
    const abort = new AbortController();
    cleanups.push(() => abort.abort());
    let answeredAt = 0;
    const poll = fetch(`${a.url}/v1/requests/${id}?wait=30`, {
      headers: { authorization: `Bearer ${TOKENS.support}` },
      signal: abort.signal,
    }).then(async (res) => {
      answeredAt = Date.now();
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    });
    await sleep(300);
    expect(answeredAt, "answered before any decision").toBe(0);
    const clickedAt = Date.now();
    expect(await b.click("U0LEAD1", "approve", id)).toBe(200);
    const answer = await Promise.race([poll, sleep(8000).then(() => null)]);
    expect(answer, "the long-poll on A was not woken by the decision on B").not.toBeNull();
    expect(answer).toMatchObject({ status: 200, json: { id, status: "approved" } });
    expect(answeredAt - clickedAt).toBeLessThan(5000);
    await a.settle();
  }, 20_000);

  it("the audit chain verifies after a burst of creates and clicks on three replicas", async () => {
    const { replicas, url } = await inProcessReplicas(3);
    const on = (i: number) => replicas[i % 3]!;
    const ids = await Promise.all(Array.from({ length: 9 }, (_, i) => createPosted(on(i))));
    await Promise.all([
      ...ids.flatMap((id, i) => [
        on(i + 1).click("U0LEAD1", "approve", id),
        on(i + 2).click(i % 2 === 0 ? "U0LEAD2" : "U0LEAD1", "approve", id),
      ]),
      ...Array.from({ length: 9 }, (_, i) => on(i).create({ ...REFUND, summary: `Refund #${i}` })),
    ]);
    for (const id of ids) {
      await eventually(async () => (await auditCount(url, id, "approved")) === 1, 8000);
    }
    await replicas[0]!.settle(15_000);

    const [total] = await query<{ n: string; forks: string }>(
      url,
      `SELECT count(*) AS n, count(prev_hash) - count(DISTINCT prev_hash) AS forks FROM audit_log`,
    );
    expect(Number(total?.forks)).toBe(0);
    const run = await runCli(["audit", "verify"], { DATABASE_URL: url });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`ok, ${Number(total?.n)} event(s) checked`);
  }, 60_000);
});
