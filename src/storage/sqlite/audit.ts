import type Database from "better-sqlite3";
import { chainHash, GENESIS_HASH } from "../../audit/chain.ts";
import type { AuditEvent } from "../../audit/events.ts";
import type { ChainRow } from "../../audit/verify.ts";
import { canonicalJson } from "../../domain/canonical-json.ts";
import type { AuditQuery, AuditReader } from "../ports.ts";

export type { AuditQuery };

/**
 * Appends to the hash-chained audit log. The head is read with one indexed
 * last-row lookup inside the caller's IMMEDIATE transaction (or one opened
 * here), so two connections writing the same file still build one chain:
 * SQLite lets only one of them hold the write lock between read and insert.
 * Plain better-sqlite3 statements, prepared once: on this path drizzle's
 * parameter mapping cost more than the hashing (≈ 13 µs of 24 µs per event).
 */
export function createAuditAppender(
  { sqlite }: { sqlite: Database.Database },
  redact: <T>(value: T) => T = (v) => v,
) {
  const head = sqlite.prepare("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").pluck();
  const insert = sqlite.prepare(
    "INSERT INTO audit_log (request_id, at, event, actor, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const append = (
    requestId: string | null,
    at: number,
    event: AuditEvent,
    actor: string | null,
    detail: unknown,
  ) => {
    const text = detail === undefined || detail === null ? null : canonicalJson(redact(detail));
    const content = { requestId, at, event, actor, detail: text };
    const prevHash = (head.get() as string | null | undefined) ?? GENESIS_HASH;
    insert.run(requestId, at, event, actor, text, prevHash, chainHash(prevHash, content));
  };
  const appendNow = sqlite.transaction(append);
  return (
    requestId: string | null,
    at: number,
    event: AuditEvent,
    actor: string | null,
    detail?: unknown,
  ): void => {
    if (sqlite.inTransaction) append(requestId, at, event, actor, detail);
    else appendNow.immediate(requestId, at, event, actor, detail);
  };
}

// Aliased to ChainRow's names: better-sqlite3 builds each row object itself, no copy in JS.
const SELECT =
  "SELECT id AS seq, request_id AS requestId, at, event, actor, detail, prev_hash AS prevHash, hash FROM audit_log";

/**
 * Streams audit rows in seq order without loading the table (better-sqlite3's
 * iterator: one row at a time). `sinceMs` starts at the first event at or after
 * that time and then keeps every later event, so the export stays one chain.
 */
export function iterateAudit(sqlite: Database.Database, query: AuditQuery = {}): IterableIterator<ChainRow> {
  let fromId = 0;
  if (query.sinceMs !== undefined && query.sinceMs !== null) {
    const first = sqlite.prepare("SELECT min(id) AS id FROM audit_log WHERE at >= ?").get(query.sinceMs) as {
      id: number | null;
    };
    if (first.id === null) return [][Symbol.iterator]();
    fromId = first.id;
  }
  const statement =
    query.requestId === undefined || query.requestId === null
      ? sqlite.prepare(`${SELECT} WHERE id >= ? ORDER BY id`).bind(fromId)
      : sqlite
          .prepare(`${SELECT} WHERE request_id = ? AND id >= ? ORDER BY id`)
          .bind(query.requestId, fromId);
  return statement.iterate() as IterableIterator<ChainRow>;
}

/** True when audit_log exists without the chain columns, i.e. it was created by a schema before 0003. */
export function auditNeedsChaining(sqlite: Database.Database): boolean {
  const cols = sqlite.prepare("SELECT name FROM pragma_table_info('audit_log')").pluck().all() as string[];
  return cols.length > 0 && !cols.includes("hash");
}

/**
 * Upgrade step after the migration that added prev_hash/hash: chains every
 * event that already exists, oldest first, rewriting its detail as canonical
 * JSON (same value, keys sorted) so it can be hashed as stored. Runs in one
 * transaction, paging by id (bounded memory).
 */
export function chainExistingEvents(sqlite: Database.Database): number {
  const page = sqlite.prepare(`${SELECT} WHERE id > ? ORDER BY id LIMIT 1000`);
  const update = sqlite.prepare("UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE id = ?");
  return sqlite
    .transaction(() => {
      let prevHash = GENESIS_HASH;
      let after = 0;
      let n = 0;
      for (;;) {
        const rows = page.all(after) as ChainRow[];
        if (rows.length === 0) return n;
        for (const row of rows) {
          const detail = canonicalDetail(row.detail);
          const hash = chainHash(prevHash, { ...row, detail });
          update.run(detail, prevHash, hash, row.seq);
          prevHash = hash;
          after = row.seq;
          n += 1;
        }
      }
    })
    .immediate();
}

function canonicalDetail(text: string | null): string | null {
  if (text === null) return null;
  try {
    return canonicalJson(JSON.parse(text));
  } catch {
    // Not JSON (never written by countersign): hashed as a JSON string so the content stays valid JSON.
    return JSON.stringify(text);
  }
}

/** The last event: what an operator anchors outside the database. */
export function auditHead(sqlite: Database.Database): { seq: number; hash: string | null } | null {
  const row = sqlite.prepare("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").get() as
    | { id: number; hash: string | null }
    | undefined;
  return row === undefined ? null : { seq: row.id, hash: row.hash };
}

/** The SQLite AuditReader: a paused better-sqlite3 iterator behind an async one. */
export function createSqliteAuditReader(sqlite: Database.Database): AuditReader {
  return {
    async *iterate(query: AuditQuery = {}) {
      yield* iterateAudit(sqlite, query);
    },
    head: async () => auditHead(sqlite),
  };
}
