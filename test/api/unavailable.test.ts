import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { type OpenDatabase, openDatabase } from "../../src/storage/sqlite/open.ts";
import { type Harness, REFUND, startHarness, tempDir } from "../support/harness.ts";
import { freshPostgresUrl, onPostgres } from "../support/postgres.ts";
import { type DbProxy, startDbProxy } from "../support/tcp-proxy.ts";

let h: Harness | undefined;
let lock: Database.Database | undefined;
let cleanup: (() => void) | undefined;
let proxy: DbProxy | undefined;
afterEach(async () => {
  lock?.close();
  lock = undefined;
  proxy?.up();
  await h?.stop();
  await proxy?.close();
  proxy = undefined;
  h = undefined;
  cleanup?.();
  cleanup = undefined;
});

const requestCount = (db: Database.Database | OpenDatabase["sqlite"]) =>
  (db.prepare("SELECT count(*) AS n FROM requests").get() as { n: number }).n;

describe("the database cannot take writes", () => {
  // SQLite's own failure modes (a foreign write lock, a full file); the PostgreSQL counterpart is below.
  it.skipIf(onPostgres)(
    "another process holds the write lock → create answers 503 unavailable with Retry-After, nothing stored, /healthz 503; lock released → 201 and /healthz 200",
    async () => {
      const t = tempDir();
      cleanup = t.cleanup;
      const dbPath = join(t.dir, "cs.db");
      h = await startHarness({ dbPath, writes: { budgetMs: 300 } });
      lock = new Database(dbPath);
      lock.exec("BEGIN IMMEDIATE");

      const refused = await h.create(REFUND);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(refused.json).toMatchObject({
        error: { code: "unavailable", message: expect.stringContaining("nothing was stored") },
      });
      const health = await h.api("GET", "/healthz", undefined, { token: null });
      expect(health.status).toBe(503);
      expect(health.json).toMatchObject({ ok: false, error: { code: "unavailable" } });
      // The agent API still answers reads while writes are refused.
      expect((await h.api("GET", "/v1/requests/req_missing")).status).toBe(404);

      lock.exec("ROLLBACK");
      expect(requestCount(lock)).toBe(0);
      // Healthy again as soon as the lock is gone, before any write succeeded.
      expect((await h.api("GET", "/healthz", undefined, { token: null })).status).toBe(200);
      const created = await h.create(REFUND);
      expect(created.status).toBe(201);
      await h.settle();
    },
  );

  it.skipIf(onPostgres)(
    "disk full (max_page_count) → create answers 503 unavailable, nothing stored, /healthz 503 until a write goes through again",
    async () => {
      const t = tempDir();
      cleanup = t.cleanup;
      const database = openDatabase(join(t.dir, "cs.db"));
      h = await startHarness({ database });
      const pages = database.sqlite.pragma("page_count", { simple: true }) as number;
      database.sqlite.pragma(`max_page_count = ${pages}`);
      const big = { ...REFUND, evidence: [{ title: "log", text: "x".repeat(60_000) }] };

      const refused = await h.create(big);
      expect(refused.status).toBe(503);
      expect(refused.json).toMatchObject({ error: { code: "unavailable" } });
      expect(refused.json.error.message).toContain("disk is full");
      expect(requestCount(database.sqlite)).toBe(0);
      expect((await h.api("GET", "/healthz", undefined, { token: null })).status).toBe(503);

      database.sqlite.pragma(`max_page_count = ${pages * 1000}`);
      expect((await h.create(big)).status).toBe(201);
      expect(requestCount(database.sqlite)).toBe(1);
      expect((await h.api("GET", "/healthz", undefined, { token: null })).status).toBe(200);
      await h.settle();
    },
  );

  it.runIf(onPostgres)(
    "PostgreSQL unreachable → create answers 503 unavailable with Retry-After, nothing stored, /healthz 503; reachable again → /healthz 200 and 201",
    async () => {
      const direct = await freshPostgresUrl();
      proxy = await startDbProxy(direct);
      h = await startHarness({ postgresUrl: proxy.url, writes: { budgetMs: 300 } });
      proxy.down();

      const refused = await h.create(REFUND);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(refused.json).toMatchObject({
        error: { code: "unavailable", message: expect.stringContaining("nothing was stored") },
      });
      const health = await h.api("GET", "/healthz", undefined, { token: null });
      expect(health.status).toBe(503);
      expect(health.json).toMatchObject({ ok: false, error: { code: "unavailable" } });
      // Reads cannot be answered either: 503 unavailable (retry), not a 500.
      const read = await h.api("GET", "/v1/requests/req_missing");
      expect(read.status).toBe(503);
      expect(read.json).toMatchObject({ error: { code: "unavailable" } });

      proxy.up();
      const client = new pg.Client({ connectionString: direct });
      await client.connect();
      try {
        expect((await client.query("SELECT count(*)::int AS n FROM requests")).rows[0].n).toBe(0);
        await expect
          .poll(async () => (await h?.api("GET", "/healthz", undefined, { token: null }))?.status, {
            timeout: 5_000,
          })
          .toBe(200);
        const created = await h.create(REFUND);
        expect(created.status).toBe(201);
        expect((await client.query("SELECT count(*)::int AS n FROM requests")).rows[0].n).toBe(1);
      } finally {
        await client.end();
      }
      await h.settle();
    },
  );

  it("the same Idempotency-Key twice in one event-loop turn (one group commit) → one 201, one 200 replay, one request stored", async () => {
    h = await startHarness();
    const headers = { "idempotency-key": "same-turn-key" };
    const [a, b] = await Promise.all([h.create(REFUND, { headers }), h.create(REFUND, { headers })]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.json.id).toBe(b.json.id);
    await h.settle();
  });
});
