import { join } from "node:path";
import type Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Deps } from "../../src/approvals/deps.ts";
import { RequestEvents } from "../../src/approvals/events.ts";
import { sweep } from "../../src/approvals/sweep.ts";
import { createMetrics } from "../../src/metrics.ts";
import type { Store } from "../../src/storage/ports.ts";
import { createGroupCommit } from "../../src/storage/sqlite/group-commit.ts";
import { createKeyStore } from "../../src/storage/sqlite/keys.ts";
import { type OpenDatabase, openDatabase } from "../../src/storage/sqlite/open.ts";
import { createStore } from "../../src/storage/sqlite/store.ts";
import { createTokenIssuer } from "../../src/tokens/issuer.ts";
import { FakeClock } from "../support/clock.ts";
import { testConfig } from "../support/config.ts";
import { tempDir } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";
import { MINUTE } from "./helpers.ts";

const STORED = 100_000;
const DUE = 100;

let cleanup: (() => void) | undefined;
let database: OpenDatabase | undefined;
afterEach(() => {
  database?.sqlite.close();
  database = undefined;
  cleanup?.();
  cleanup = undefined;
});

/** Every statement the store prepares, with the rows each execution returned and the arguments it got. */
interface Traced {
  sql: string;
  runs: { args: unknown[]; rows: number }[];
}

/** Opens the database with `prepare` wrapped, so the store's real SQL and bindings can be inspected. */
function traced(db: OpenDatabase): { statements: Traced[]; tracing: { on: boolean } } {
  const statements: Traced[] = [];
  const tracing = { on: false };
  const prepare = db.sqlite.prepare.bind(db.sqlite);
  db.sqlite.prepare = ((source: string) => {
    const stmt = prepare(source);
    const entry: Traced = { sql: source, runs: [] };
    statements.push(entry);
    for (const method of ["all", "get", "run"] as const) {
      const original = (stmt[method] as (...a: unknown[]) => unknown).bind(stmt);
      (stmt as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        const result = original(...args);
        if (tracing.on) {
          // drizzle reads in raw mode: `get` returns one row as an array of columns.
          const rows =
            method === "get"
              ? result === undefined
                ? 0
                : 1
              : method === "all"
                ? (result as unknown[]).length
                : 0;
          entry.runs.push({ args, rows });
        }
        return result;
      };
    }
    return stmt;
  }) as typeof db.sqlite.prepare;
  return { statements, tracing };
}

/** Inserts rows the way create-request stores them, in one transaction with one prepared statement. */
function insertRows(sqlite: Database.Database, now: number): { due: string[] } {
  const insert = sqlite.prepare(`INSERT INTO requests (
      id, agent, status, resolution, action, summary, target, params, reason, risk, evidence, run_id,
      on_behalf_of, callback_url, args_hash, policy, role, approvals_required, ttl_ms, created_at, expires_at,
      remind_at, escalate_at, escalated_at, escalated_to, decided_at, outcome, slack_channel, slack_ts,
      dm_channel, dm_ts, idempotency_key, body_hash)
    VALUES (@id, 'support-bot', @status, @resolution, 'refund.issue', @summary, @target, @params,
      'Product has a known defect', '{"tier":"medium","score":62}',
      '[{"title":"Customer message","text":"It stopped working after two days"}]', @runId,
      NULL, NULL, @hash, 'medium-refunds', 'support-lead', 1, 1800000, @createdAt, @expiresAt,
      @remindAt, @escalateAt, NULL, NULL, @decidedAt, NULL, 'C0SUPPORT', @ts, NULL, NULL, NULL, @hash)`);
  const far = now + 365 * 24 * 60 * MINUTE;
  const due: string[] = [];
  sqlite.transaction(() => {
    for (let i = 0; i < STORED + DUE; i += 1) {
      const isDue = i >= STORED;
      // A fifth of the stored rows are long decided, with expires_at in the past:
      // only the partial index (status = 'pending') keeps the sweep off them.
      const decided = !isDue && i % 5 === 0;
      const id = `req_${isDue ? "due" : "old"}${String(i).padStart(8, "0")}`;
      if (isDue) due.push(id);
      const createdAt = decided || isDue ? now - 40 * MINUTE - i : now - (i % 1000);
      insert.run({
        id,
        status: decided ? "approved" : "pending",
        resolution: decided ? "approved_by_humans" : null,
        summary: `Refund $${(i % 150) + 50} to customer ${i}`,
        target: `order #${100000 + i}`,
        params: JSON.stringify({ amount: (i % 150) + 50, currency: "USD", order_id: String(100000 + i) }),
        runId: `run_${i}`,
        hash: `sha256:${i.toString(16).padStart(64, "0")}`,
        createdAt,
        expiresAt: decided || isDue ? createdAt + 30 * MINUTE : far,
        remindAt: decided || isDue ? null : far,
        escalateAt: decided || isDue ? null : far,
        decidedAt: decided ? createdAt + MINUTE : null,
        ts: `${Math.floor(createdAt / 1000)}.${String(i % 1_000_000).padStart(6, "0")}`,
      });
    }
  })();
  return { due };
}

function depsFor(store: Store, clock: FakeClock, open: OpenDatabase): Deps {
  const config = testConfig();
  const metrics = createMetrics({
    outboxDepth: store.outboxDepth,
    pendingCallbacks: store.pendingCallbacks,
    oldestPendingCreatedAt: store.oldestPendingCreatedAt,
    countPending: store.countPending,
    now: () => clock.now(),
  });
  return {
    store,
    writes: createGroupCommit(open),
    config,
    clock,
    events: new RequestEvents(),
    metrics,
    log: pino({ level: "silent" }),
    // The sweep never approves, so no key is needed.
    tokens: createTokenIssuer({ keys: createKeyStore(open), config, suppliedKey: null }),
  };
}

// Bulk rows and statement tracing through better-sqlite3 (SQLite's statements and partial indexes).
describe.skipIf(onPostgres)("sweep over many stored rows", () => {
  it(`${STORED} stored + ${DUE} past ttl → exactly the ${DUE} due rows expire, found through the partial indexes`, async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    database = openDatabase(join(t.dir, "countersign.db"));
    const { statements, tracing } = traced(database);
    const store = createStore(database);
    const clock = new FakeClock();
    const { due } = insertRows(database.sqlite, clock.now());

    tracing.on = true;
    const report = await sweep(depsFor(store, clock, database), clock.now());
    tracing.on = false;
    expect(report).toEqual({ expired: DUE, escalated: 0, reminded: 0, failed: 0, more: false });

    // Exactly the due rows changed.
    const counts = database.sqlite
      .prepare("SELECT status, count(*) AS n FROM requests GROUP BY status ORDER BY status")
      .all() as { status: string; n: number }[];
    expect(counts).toEqual([
      { status: "approved", n: STORED / 5 },
      { status: "expired", n: DUE },
      { status: "pending", n: STORED - STORED / 5 },
    ]);
    const expiredIds = (
      database.sqlite.prepare("SELECT id FROM requests WHERE status = 'expired' ORDER BY id").all() as {
        id: string;
      }[]
    ).map((r) => r.id);
    expect(expiredIds).toEqual(due);

    // Work done, not time: no statement during the sweep returned more than the due set,
    // and the rows read in total are a small multiple of it.
    const runs = statements.flatMap((s) => s.runs.map((r) => ({ sql: s.sql, ...r })));
    expect(Math.max(...runs.map((r) => r.rows))).toBeLessThanOrEqual(DUE);
    const rowsRead = runs.reduce((n, r) => n + r.rows, 0);
    expect(rowsRead).toBeLessThan(10 * DUE);
    const read = (s: Traced) => s.runs.reduce((n, r) => n + r.rows, 0);

    // The due queries, with the exact bindings the sweep used, walk the partial indexes.
    const dueQueries: [string, RegExp][] = [
      ["requests_pending_expires", /"expires_at" <= \?/],
      ["requests_pending_escalate", /"escalate_at" <= \?/],
      ["requests_pending_remind", /"remind_at" <= \?/],
    ];
    for (const [index, pattern] of dueQueries) {
      const stmt = statements.find((s) => s.sql.startsWith("select") && pattern.test(s.sql));
      expect(stmt, index).toBeDefined();
      expect(stmt!.runs.length, index).toBeGreaterThan(0);
      const plan = database.sqlite
        .prepare(`EXPLAIN QUERY PLAN ${stmt!.sql}`)
        .all(...(stmt!.runs[0]!.args as unknown[])) as { detail: string }[];
      const details = plan.map((p) => p.detail);
      expect(details.join(" | "), index).toMatch(new RegExp(`^SEARCH requests USING INDEX ${index} \\(`));
      expect(details.join(" | "), index).not.toMatch(/SCAN requests|TEMP B-TREE/);
    }
    const expiries = statements.find((s) => s.sql.startsWith("select") && /"expires_at" <= \?/.test(s.sql))!;
    expect(read(expiries)).toBe(DUE);
  });

  it("a second sweep right after → nothing due, nothing read but the empty due queries", async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    database = openDatabase(join(t.dir, "countersign.db"));
    const { statements, tracing } = traced(database);
    const store = createStore(database);
    const clock = new FakeClock();
    insertRows(database.sqlite, clock.now());
    expect((await sweep(depsFor(store, clock, database), clock.now())).expired).toBe(DUE);

    tracing.on = true;
    expect(await sweep(depsFor(store, clock, database), clock.now())).toEqual({
      expired: 0,
      escalated: 0,
      reminded: 0,
      failed: 0,
      more: false,
    });
    tracing.on = false;
    const runs = statements.flatMap((s) => s.runs);
    expect(runs).toHaveLength(3);
    expect(runs.every((r) => r.rows === 0)).toBe(true);
  });
});

// Seeds its rows through better-sqlite3 (insertRows): SQLite only.
describe.skipIf(onPostgres)("sweep in slices", () => {
  let cleanup = () => {};
  let database: ReturnType<typeof openDatabase> | undefined;
  afterEach(() => {
    database?.sqlite.close();
    database = undefined;
    cleanup();
  });

  it("budget 30 over 100 due rows → 30 expired and more: true, until a slice finds the rest", async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    database = openDatabase(join(t.dir, "countersign.db"));
    const store = createStore(database);
    const clock = new FakeClock();
    insertRows(database.sqlite, clock.now());
    const first = await sweep(depsFor(store, clock, database), clock.now(), 30);
    expect(first).toMatchObject({ expired: 30, more: true });
    let total = first.expired;
    let slices = 1;
    for (;;) {
      const next = await sweep(depsFor(store, clock, database), clock.now(), 30);
      total += next.expired;
      slices += 1;
      if (!next.more) break;
    }
    expect(total).toBe(DUE);
    expect(slices).toBe(4);
  });
});
