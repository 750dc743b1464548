import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createGroupCommit } from "../../src/storage/sqlite/group-commit.ts";
import { type OpenDatabase, openDatabase } from "../../src/storage/sqlite/open.ts";
import { createStore } from "../../src/storage/sqlite/store.ts";
import { StoreUnavailable } from "../../src/storage/unavailable.ts";
import { tempDir } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function setUp() {
  const t = tempDir();
  const path = join(t.dir, "cs.db");
  const database: OpenDatabase = openDatabase(path);
  const other = new Database(path);
  cleanups.push(
    t.cleanup,
    () => database.sqlite.close(),
    () => other.close(),
  );
  const store = createStore(database);
  // Each write is marked by its actor: the event names are a closed set.
  const count = (db: Database.Database, marker: string) =>
    (db.prepare("SELECT count(*) AS n FROM audit_log WHERE actor = ?").get(marker) as { n: number }).n;
  return { path, database, other, store, count };
}

// SQLite's group commit (one writer, savepoints, a foreign write lock, a full file); PostgreSQL's writes: pg-store.test.ts.
describe.skipIf(onPostgres)("group commit", () => {
  it("three writes in one event-loop turn → one transaction (each sees the earlier ones, another connection none until COMMIT); each answered after the COMMIT", async () => {
    const { database, other, store, count } = setUp();
    const writes = createGroupCommit(database);
    const seen: { mine: number; theirs: number }[] = [];
    const write = (i: number) =>
      writes.run(async () => {
        await store.audit(null, i, "created", "grouped");
        seen.push({ mine: count(database.sqlite, "grouped"), theirs: count(other, "grouped") });
        return i;
      });
    const answered = await Promise.all(
      [1, 2, 3].map((i) => write(i).then((value) => ({ value, theirs: count(other, "grouped") }))),
    );
    expect(seen).toEqual([
      { mine: 1, theirs: 0 },
      { mine: 2, theirs: 0 },
      { mine: 3, theirs: 0 },
    ]);
    // Every caller hears back only once all three are committed.
    expect(answered).toEqual([
      { value: 1, theirs: 3 },
      { value: 2, theirs: 3 },
      { value: 3, theirs: 3 },
    ]);
  });

  it("one write of a batch throws → only its rows roll back (savepoint); the others commit; it gets its own error", async () => {
    const { database, other, store, count } = setUp();
    const writes = createGroupCommit(database);
    const results = await Promise.allSettled([
      writes.run(async () => store.audit(null, 1, "created", "kept")),
      writes.run(async () => {
        await store.audit(null, 2, "created", "undone");
        throw new Error("bad row");
      }),
      writes.run(async () => store.audit(null, 3, "created", "kept")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: "bad row" });
    expect(count(other, "kept")).toBe(2);
    expect(count(other, "undone")).toBe(0);
    expect(writes.failing).toBeNull();
  });

  it("another process holds the write lock past the budget → StoreUnavailable, nothing stored, failing set; released within the budget → the write waits and commits", async () => {
    const { database, other, store, count } = setUp();
    const writes = createGroupCommit(database, { budgetMs: 300 });
    other.exec("BEGIN IMMEDIATE");
    const refused = await writes
      .run(async () => store.audit(null, 1, "created", "locked_out"))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreUnavailable);
    expect((refused as StoreUnavailable).code).toMatch(/^SQLITE_BUSY/);
    expect(writes.failing).not.toBeNull();
    expect(await writes.canWrite()).toBe(false);

    const waiting = writes.run(async () => store.audit(null, 2, "created", "waited"), { budgetMs: 5_000 });
    setTimeout(() => other.exec("ROLLBACK"), 400);
    await waiting;
    expect(count(other, "locked_out")).toBe(0);
    expect(count(other, "waited")).toBe(1);
    expect(writes.failing).toBeNull();
    expect(await writes.canWrite()).toBe(true);
  });

  it("disk full inside one write of a batch (max_page_count) → that write is StoreUnavailable, the small ones beside it commit; failing is set until writes go through again", async () => {
    const { database, other, store, count } = setUp();
    const writes = createGroupCommit(database);
    const pages = database.sqlite.pragma("page_count", { simple: true }) as number;
    database.sqlite.pragma(`max_page_count = ${pages + 5}`);
    const big = "x".repeat(200_000);
    const results = await Promise.allSettled([
      writes.run(async () => store.audit(null, 1, "created", "small")),
      writes.run(async () => store.audit(null, 2, "created", "too_big", { big })),
      writes.run(async () => store.audit(null, 3, "created", "small")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const refused = (results[1] as PromiseRejectedResult).reason as StoreUnavailable;
    expect(refused).toBeInstanceOf(StoreUnavailable);
    expect(refused.code).toBe("SQLITE_FULL");
    expect(writes.failing?.error.message).toContain("disk is full");
    expect(count(other, "too_big")).toBe(0);
    expect(count(other, "small")).toBe(2);

    database.sqlite.pragma(`max_page_count = ${pages * 1000}`);
    await writes.run(async () => store.audit(null, 4, "created", "fits", { big }));
    expect(count(other, "fits")).toBe(1);
    expect(writes.failing).toBeNull();
  });
});
