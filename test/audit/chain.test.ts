import { spawn } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/approvals/hash.ts";
import { chainContentJson, chainHash, GENESIS_HASH, isoMs } from "../../src/audit/chain.ts";
import { iterateAudit } from "../../src/db/audit.ts";
import type { Store } from "../../src/db/backend.ts";
import { openDatabase } from "../../src/db/open.ts";
import { openPostgresBackend } from "../../src/db/pg/index.ts";
import { createStore } from "../../src/db/store.ts";
import { useCleanups } from "../support/cleanups.ts";
import { openReader } from "../support/db-reader.ts";
import { tempDir } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";
import { dbTarget, seedEvents, tamper, verifyDb, verifyHarnessDb } from "./helpers.ts";

const cleanups = useCleanups();

type Stores = [Store, Store, () => Promise<void>];
function twoSqliteStores(path: string): Stores {
  const a = openDatabase(path);
  const b = openDatabase(path);
  const close = async () => {
    a.sqlite.close();
    b.sqlite.close();
  };
  return [createStore(a), createStore(b), close];
}
/** Two backends (two pools) on the database that stands for `path`, like two replicas. */
async function twoPostgresStores(path: string): Promise<Stores> {
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const url = await dbTarget(path);
  const a = await openPostgresBackend(url, { log: quiet, poolSize: 2 });
  const b = await openPostgresBackend(url, { log: quiet, poolSize: 2 });
  return [a.store, b.store, async () => void (await Promise.all([a.close(), b.close()]))];
}
function dbFile(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return join(dir, "audit.db");
}

describe("chain content", () => {
  it("isoMs formats like Date#toISOString, also across its cached second", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4_102_444_800_000 }), { minLength: 1, maxLength: 20 }),
        (times) => {
          const sorted = [...times].sort((a, b) => a - b);
          for (const ms of [...sorted, ...sorted.map((t) => t + 1)])
            expect(isoMs(ms)).toBe(new Date(ms).toISOString());
        },
      ),
    );
  });

  it("the hashed text is RFC 8785 canonical JSON of the event's content", () => {
    const text = fc.option(fc.string(), { nil: null });
    fc.assert(
      fc.property(
        text,
        fc.string(),
        text,
        fc.option(fc.jsonValue(), { nil: null }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (requestId, event, actor, detailValue, at) => {
          const detail = detailValue === null ? null : canonicalJson(detailValue);
          const content = { requestId, at, event, actor, detail };
          const expected = canonicalJson({
            request_id: requestId,
            at: new Date(at).toISOString(),
            event,
            actor,
            detail: detail === null ? null : JSON.parse(detail),
            prev_hash: GENESIS_HASH,
          });
          expect(chainContentJson(GENESIS_HASH, content)).toBe(expected);
        },
      ),
    );
  });
});

describe("audit verify on the database", () => {
  it("untouched chain → ok, every event counted, head is the last event's hash", async () => {
    const path = dbFile();
    await seedEvents(await dbTarget(path), 20);
    const result = await verifyHarnessDb(path);
    const reader = await openReader(path);
    const [last] = await reader.all<{ hash: string }>("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1");
    await reader.close();
    expect(last?.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result).toMatchObject({ ok: true, count: 20, head: { seq: 20, hash: last?.hash } });
  });

  it("an event's detail changed with UPDATE → edited, that event named", async () => {
    const path = dbFile();
    await seedEvents(await dbTarget(path), 20);
    await tamper(
      await dbTarget(path),
      `UPDATE audit_log SET detail = '{"n":7,"approved":true}' WHERE id = 8`,
    );
    expect(await verifyHarnessDb(path)).toMatchObject({ ok: false, problem: { kind: "edited", seq: 8 } });
  });

  it("an event's actor changed with UPDATE → edited", async () => {
    const path = dbFile();
    await seedEvents(await dbTarget(path), 20);
    await tamper(await dbTarget(path), `UPDATE audit_log SET actor = 'slack:U0MALLORY' WHERE id = 3`);
    expect(await verifyHarnessDb(path)).toMatchObject({ ok: false, problem: { kind: "edited", seq: 3 } });
  });

  it("an event removed with DELETE → deleted, named by the gap before the next event", async () => {
    const path = dbFile();
    await seedEvents(await dbTarget(path), 20);
    await tamper(await dbTarget(path), "DELETE FROM audit_log WHERE id = 5");
    const result = await verifyHarnessDb(path);
    expect(result).toMatchObject({ ok: false, problem: { kind: "deleted", seq: 6 } });
    expect(result.ok || result.problem.message).toContain("event 5 was deleted");
  });

  it("the first event deleted → deleted (the chain must start at genesis)", async () => {
    const path = dbFile();
    await seedEvents(await dbTarget(path), 5);
    await tamper(await dbTarget(path), "DELETE FROM audit_log WHERE id = 1");
    expect(await verifyHarnessDb(path)).toMatchObject({ ok: false, problem: { kind: "deleted", seq: 2 } });
  });

  it("a row INSERTed at the end without hashes → inserted", async () => {
    const path = dbFile();
    await seedEvents(await dbTarget(path), 10);
    await tamper(
      await dbTarget(path),
      `INSERT INTO audit_log (request_id, at, event, actor) VALUES ('req_1', 1, 'approved', 'slack:U0X')`,
    );
    expect(await verifyHarnessDb(path)).toMatchObject({ ok: false, problem: { kind: "inserted", seq: 11 } });
  });

  it("a forged row INSERTed in the middle with a valid-looking hash → inserted, that row named", async () => {
    const path = dbFile();
    await seedEvents(await dbTarget(path), 10);
    const reader = await openReader(path);
    const [prev] = await reader.all<{ hash: string }>("SELECT hash FROM audit_log WHERE id = 5");
    await reader.close();
    if (prev === undefined) throw new Error("no event 5");
    await tamper(
      await dbTarget(path),
      "UPDATE audit_log SET id = id + 1000 WHERE id > 5; UPDATE audit_log SET id = id - 999 WHERE id > 1000",
    );
    const forged = {
      requestId: "req_1",
      at: 1_700_000_005_500,
      event: "approved",
      actor: "slack:U0X",
      detail: null,
    };
    const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;
    await tamper(
      await dbTarget(path),
      `INSERT INTO audit_log (id, request_id, at, event, actor, detail, prev_hash, hash) VALUES (6, ${quote(forged.requestId)}, ${forged.at}, ${quote(forged.event)}, ${quote(forged.actor)}, NULL, ${quote(prev.hash)}, ${quote(chainHash(prev.hash, forged))})`,
    );
    expect(await verifyHarnessDb(path)).toMatchObject({ ok: false, problem: { kind: "inserted", seq: 6 } });
  });

  it("two rows swapped → reordered, the first misplaced event named", async () => {
    const path = dbFile();
    await seedEvents(await dbTarget(path), 10);
    await tamper(
      await dbTarget(path),
      "UPDATE audit_log SET id = -4 WHERE id = 4; UPDATE audit_log SET id = 4 WHERE id = 3; UPDATE audit_log SET id = 3 WHERE id = -4",
    );
    expect(await verifyHarnessDb(path)).toMatchObject({ ok: false, problem: { kind: "reordered", seq: 3 } });
  });

  it("the tail cut off → still a valid chain, but not once the head was anchored", async () => {
    const path = dbFile();
    await seedEvents(await dbTarget(path), 10);
    const anchored = await verifyHarnessDb(path);
    if (!anchored.ok || anchored.head === null) throw new Error("expected a valid chain");
    await tamper(await dbTarget(path), "DELETE FROM audit_log WHERE id > 8");
    expect(await verifyHarnessDb(path)).toMatchObject({ ok: true, count: 8 });
    expect(await verifyHarnessDb(path, { start: "genesis", anchor: anchored.head.hash })).toMatchObject({
      ok: false,
      problem: { kind: "deleted" },
    });
  });

  it("tail cut, then new events appended → the gap in seq is reported as deleted", async () => {
    const path = dbFile();
    await seedEvents(await dbTarget(path), 10);
    await tamper(await dbTarget(path), "DELETE FROM audit_log WHERE id > 8");
    await seedEvents(await dbTarget(path), 2, 10);
    expect(await verifyHarnessDb(path)).toMatchObject({ ok: false, problem: { kind: "deleted", seq: 11 } });
  });
});

describe("appending", () => {
  it("two store instances on one database, interleaved → one chain", async () => {
    const path = dbFile();
    const [sa, sb, close] = onPostgres ? await twoPostgresStores(path) : twoSqliteStores(path);
    try {
      for (let i = 0; i < 50; i += 1) {
        await sa.tx(() => sa.audit("req_a", i, "created", null, { i }));
        await sb.audit("req_b", i, "created", null, { i }); // outside a transaction: opens its own
      }
    } finally {
      await close();
    }
    expect(await verifyHarnessDb(path)).toMatchObject({ ok: true, count: 100 });
  });

  it("two processes appending at the same time → one chain with every event", async () => {
    const path = dbFile();
    if (!onPostgres) openDatabase(path).sqlite.close();
    const target = await dbTarget(path);
    const run = (from: number) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ["test/audit/append-child.ts", target, "300", String(from)], {
          stdio: "ignore",
        });
        child.once("exit", resolve);
      });
    expect(await Promise.all([run(0), run(1000)])).toEqual([0, 0]);
    expect(await verifyHarnessDb(path)).toMatchObject({ ok: true, count: 600 });
  });
});

// Upgrading an old SQLite file (PostgreSQL support starts with the chained schema).
describe.skipIf(onPostgres)("upgrade from the schema before the chain", () => {
  it("a database built with migrations 0000–0002 keeps every event, chained, and verifies", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const old = join(dir, "migrations-0002");
    cpSync("migrations", old, { recursive: true });
    const journal = JSON.parse(readFileSync(join(old, "meta/_journal.json"), "utf8"));
    journal.entries = journal.entries.filter((e: { idx: number }) => e.idx <= 2);
    writeFileSync(join(old, "meta/_journal.json"), JSON.stringify(journal));

    const path = join(dir, "old.db");
    const sqlite = new Database(path);
    migrate(drizzle(sqlite), { migrationsFolder: old });
    const insert = sqlite.prepare(
      "INSERT INTO audit_log (request_id, at, event, actor, detail) VALUES (?, ?, ?, ?, ?)",
    );
    const before = [
      [
        "req_1",
        1000,
        "created",
        "agent:support-bot",
        JSON.stringify({ action: "refund.issue", args_hash: "sha256:ab" }),
      ],
      ["req_1", 1001, "routed", null, JSON.stringify({ role: "support-lead", policy: "medium-refunds" })],
      ["req_1", 2000, "approved", "slack:U0LEAD1", JSON.stringify({ resolution: "approved_by_humans" })],
      [null, 3000, "reminded", "system:sweep", null],
    ] as const;
    for (const row of before) insert.run(...row);
    sqlite.close();

    const upgraded = openDatabase(path);
    const rows = [...iterateAudit(upgraded.sqlite)];
    upgraded.sqlite.close();
    expect(
      rows.map((r) => [r.requestId, r.at, r.event, r.actor, r.detail === null ? null : JSON.parse(r.detail)]),
    ).toEqual(
      before.map(([id, at, event, actor, detail]) => [
        id,
        at,
        event,
        actor,
        detail === null ? null : JSON.parse(detail),
      ]),
    );
    expect(rows[0]?.prevHash).toBe(GENESIS_HASH);
    expect(verifyDb(path)).toMatchObject({ ok: true, count: 4 });

    // New events continue the same chain.
    await seedEvents(path, 3);
    expect(verifyDb(path)).toMatchObject({ ok: true, count: 7 });
  });
});
