import { canonicalJson } from "../../approvals/hash.ts";
import { chainHash, GENESIS_HASH } from "../../audit/chain.ts";
import type { AuditEvent } from "../../audit/events.ts";
import type { PgSession } from "./session.ts";

/**
 * pg_advisory_xact_lock key of the audit chain. Every appender takes it in its
 * transaction before reading the head, so writers on any replica append one at a
 * time and build ONE chain; it is released at commit or rollback.
 */
export const AUDIT_LOCK_KEY = 0x61756469; // "audi"

const LOCK = { name: "cs_audit_lock", text: "SELECT pg_advisory_xact_lock($1)" };
const HEAD = { name: "cs_audit_head", text: "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1" };
// The id is the head's + 1, not the identity sequence's next value: a sequence
// value is spent even when its transaction rolls back (a retry, a kill -9), and
// a gap in the seq numbers reads as a deleted event to `audit verify`. Under the
// chain's lock the head is this transaction's alone, so head + 1 is free.
const INSERT = {
  name: "cs_audit_insert",
  text: "INSERT INTO audit_log (id, request_id, at, event, actor, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
};

/**
 * Appends to the hash-chained audit log with the hashing of src/db/audit.ts.
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
      const { rows } = await ctx.client.query<{ id: string; hash: string | null }>(HEAD);
      const last = rows[0];
      head = { seq: last === undefined ? 0 : Number(last.id), hash: last?.hash ?? GENESIS_HASH };
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
