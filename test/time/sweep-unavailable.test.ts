import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness, tempDir } from "../support/harness.ts";
import { freshPostgresUrl, onPostgres } from "../support/postgres.ts";
import { createPosted } from "../support/requests.ts";
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

describe("the sweep while the database takes no writes", () => {
  // SQLite's write lock held by another process; the PostgreSQL counterpart (the server unreachable) is below.
  it.skipIf(onPostgres)(
    "5 requests past their ttl + another process holding the write lock → the pass stops at the first row (no busy wait per row), nothing changes; lock gone → all 5 expire",
    async () => {
      const t = tempDir();
      cleanup = t.cleanup;
      const dbPath = join(t.dir, "cs.db");
      h = await startHarness({ dbPath });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await createPosted(h));
      await h.settle();
      h.clock.advance(31 * 60_000);
      lock = new Database(dbPath);
      lock.exec("BEGIN IMMEDIATE");

      expect(await h.service.sweepNow()).toEqual({
        expired: 0,
        escalated: 0,
        reminded: 0,
        failed: 1,
        more: false,
      });
      lock.exec("ROLLBACK");
      for (const id of ids) expect((await h.service.deps.store.getRequest(id))?.status).toBe("pending");

      expect(await h.service.sweepNow()).toMatchObject({ expired: 5, failed: 0 });
      for (const id of ids) expect((await h.service.deps.store.getRequest(id))?.status).toBe("expired");
      await h.settle();
    },
  );

  it.runIf(onPostgres)(
    "5 requests past their ttl + PostgreSQL unreachable → the pass stops at once (failed 1), nothing changes; reachable again → all 5 expire",
    async () => {
      proxy = await startDbProxy(await freshPostgresUrl());
      h = await startHarness({ postgresUrl: proxy.url, writes: { budgetMs: 300 } });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await createPosted(h));
      await h.settle();
      h.clock.advance(31 * 60_000);
      proxy.down();

      expect(await h.service.sweepNow()).toEqual({
        expired: 0,
        escalated: 0,
        reminded: 0,
        failed: 1,
        more: false,
      });
      proxy.up();
      for (const id of ids) expect((await h.service.deps.store.getRequest(id))?.status).toBe("pending");

      expect(await h.service.sweepNow()).toMatchObject({ expired: 5, failed: 0 });
      for (const id of ids) expect((await h.service.deps.store.getRequest(id))?.status).toBe("expired");
      await h.settle();
    },
  );
});
