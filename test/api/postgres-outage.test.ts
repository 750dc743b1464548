import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { blockActionsPayload, postToApp } from "../../src/fake-slack/slack-requests.ts";
import { migratePostgres } from "../../src/storage/pg/open.ts";
import { eventually, type Harness, REFUND, SIGNING_SECRET, startHarness } from "../support/harness.ts";
import { onPostgres, startCluster, stopCluster } from "../support/postgres.ts";

const script = fileURLToPath(new URL("../../scripts/pg-cluster.mjs", import.meta.url));
const cluster = (command: "pause" | "resume", dir: string) =>
  execFileSync(process.execPath, [script, command, "--dir", dir], { stdio: "ignore" });

vi.setConfig({ testTimeout: 60_000 });

let h: Harness | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await h?.stop().catch(() => undefined);
  h = undefined;
  for (const dir of dirs.splice(0)) stopCluster(dir);
});

/**
 * PostgreSQL going away under a running service (its own cluster, so the rest
 * of the suite keeps its server): nothing is acknowledged that was not stored,
 * /healthz says so, and the service recovers by itself when the server is back.
 */
describe.skipIf(!onPostgres)("PostgreSQL down and back (DATABASE_URL)", () => {
  it("server gone → create 503 with Retry-After and nothing stored, /healthz 503, a click not acked; back → both work again", async () => {
    const own = startCluster();
    dirs.push(own.dir);
    const pool = new pg.Pool({ connectionString: own.url, max: 1 });
    await migratePostgres(pool);
    // The shared test clusters trade durability for speed (synchronous_commit off); this one is
    // stopped like a crash, so it keeps what it acknowledged, as a production server does.
    await pool.query("ALTER SYSTEM SET synchronous_commit = on");
    await pool.query("SELECT pg_reload_conf()");
    await pool.query("CHECKPOINT");
    await pool.end();
    h = await startHarness({ dbPath: own.url, writes: { budgetMs: 500 } });
    // The harness maps the key to a fresh database on the shared server; run on this cluster instead.
    await h.stop();
    const { startService } = await import("../../src/service.ts");
    void startService;
    h = await startHarness({ postgresUrl: own.url, writes: { budgetMs: 500 } });
    const before = await h.create(REFUND);
    expect(before.status).toBe(201);
    const posted = await eventually(async () => {
      const row = await h?.service.deps.store.getRequest(before.json.id);
      return row?.slackTs ? row : undefined;
    });
    const where = { channel: posted.slackChannel ?? "", ts: posted.slackTs ?? "" };

    cluster("pause", own.dir);
    const refused = await h.create({ ...REFUND, summary: "during the outage" });
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe("unavailable");
    expect(refused.headers.get("retry-after")).not.toBeNull();
    const health = await h.api("GET", "/healthz", undefined, { token: null });
    expect(health.status).toBe(503);
    expect(health.json.ok).toBe(false);
    // A click that cannot be stored is never answered with a success.
    expect(await h.click("U0LEAD1", "approve", before.json.id, where)).not.toBe(200);

    cluster("resume", own.dir);
    await eventually(
      async () => (await h?.api("GET", "/healthz", undefined, { token: null }))?.status === 200,
      20_000,
    );
    const after = await h.create({ ...REFUND, summary: "after the outage" });
    expect(after.status).toBe(201);
    // The click comes from the message as Slack shows it, metadata included: this cluster runs
    // with synchronous_commit off, so the crash-like pause may have lost the recording of its ts
    // (a click counts only on its request's message, known by its recorded ts or its metadata).
    const message = h.slack.messages(where.channel).find((m) => m.ts === where.ts);
    expect(message?.metadata).toMatchObject({ event_payload: { request_id: before.json.id } });
    const clicked = await postToApp(
      `${h.url}/slack/events`,
      SIGNING_SECRET,
      blockActionsPayload({
        user: { id: "U0LEAD1" },
        actionId: "approve",
        value: before.json.id,
        channelId: where.channel,
        messageTs: where.ts,
        message: { metadata: message?.metadata },
      }),
    );
    expect(clicked.status).toBe(200);
    const decided = await h.api("GET", `/v1/requests/${before.json.id}`);
    expect(decided.json.status).toBe("approved");
    // Exactly what was acknowledged is stored: the refused create is not.
    const check = new pg.Client({ connectionString: own.url });
    await check.connect();
    try {
      const { rows } = await check.query("SELECT summary FROM requests");
      expect(rows.map((r) => r.summary).sort()).toEqual([REFUND.summary, "after the outage"].sort());
    } finally {
      await check.end();
    }
  });
});
