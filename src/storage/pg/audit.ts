import { chainHash, GENESIS_HASH } from "../../audit/chain.ts";
import type { AuditEvent } from "../../audit/events.ts";
import { canonicalJson } from "../../domain/canonical-json.ts";
import type { PgSession } from "./session.ts";

/**
 * pg_advisory_xact_lock key of the audit chain. Every appender takes it in its
 * transaction before reading the head, so writers on any replica append one at a
 * time and build ONE chain; it is released at commit or rollback.
 */
export const AUDIT_LOCK_KEY = 0x61756469; // "audi"

const LOCK = { name: "cs_audit_lock", text: "SELECT pg_advisory_xact_lock($1)" };
/**
 * Ids are numbered like SQLite's AUTOINCREMENT: one past the highest ever
 * given, kept in job_ticks ("audit_seq") inside the appending transaction. An
 * identity sequence would spend a value on every rolled-back append (a retry, a
 * kill -9), and `audit verify` reads a gap in the seq numbers as a deleted
 * event; a high-water mark that is rolled back with its transaction leaves no
 * gap, while deleting the newest events still does (the mark never goes back).
 * The identity sequence is moved along too, for rows inserted by hand.
 */
const HEAD = {
  name: "cs_audit_head",
  text: `SELECT GREATEST(
      (SELECT tick FROM job_ticks WHERE name = 'audit_seq'),
      (SELECT max(id) FROM audit_log), 0) AS seq,
    (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) AS hash`,
};
const INSERT = {
  name: "cs_audit_insert",
  text: `WITH appended AS (
      INSERT INTO audit_log (id, request_id, at, event, actor, detail, prev_hash, hash)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)),
    mark AS (
      INSERT INTO job_ticks (name, tick) VALUES ('audit_seq', $1)
      ON CONFLICT (name) DO UPDATE SET tick = excluded.tick)
    SELECT setval(pg_get_serial_sequence('audit_log', 'id'), $1)`,
};

/**
 * Appends to the hash-chained audit log with the hashing of src/storage/sqlite/audit.ts.
 * The lock and the head are taken once per transaction: after that this
 * transaction is the only appender, so the head it wrote last is the head.
 * Plain pg queries (named, prepared once per connection): three round trips
 * for a transaction's first event, one for each later one.
 */
export function createPgAuditAppender(session: PgSession, redact: <T>(value: T) => T = (v) => v) {
  const append = async (
    requestId: string | null,
    at: number,
    event: AuditEvent,
    actor: string | null,
    detail: unknown,
  ): Promise<void> => {
    const ctx = session.current();
    if (ctx === undefined) throw new Error("audit append outside a transaction");
    const text = detail === undefined || detail === null ? null : canonicalJson(redact(detail));
    let head = ctx.audit.locked ? ctx.audit.head : null;
    if (!ctx.audit.locked) {
      await ctx.client.query({ ...LOCK, values: [AUDIT_LOCK_KEY] });
      ctx.audit.locked = true;
    }
    if (head === null) {
      // Read after the lock, in a new statement: READ COMMITTED then sees the previous holder's commit.
      const { rows } = await ctx.client.query<{ seq: string; hash: string | null }>(HEAD);
      head = { seq: Number(rows[0]?.seq ?? 0), hash: rows[0]?.hash ?? GENESIS_HASH };
    }
    const seq = head.seq + 1;
    const hash = chainHash(head.hash, { requestId, at, event, actor, detail: text });
    await ctx.client.query({ ...INSERT, values: [seq, requestId, at, event, actor, text, head.hash, hash] });
    ctx.audit.head = { seq, hash };
  };
  return (
    requestId: string | null,
    at: number,
    event: AuditEvent,
    actor: string | null,
    detail?: unknown,
  ): Promise<void> =>
    session.current() === undefined
      ? session.tx(() => append(requestId, at, event, actor, detail))
      : append(requestId, at, event, actor, detail);
}
