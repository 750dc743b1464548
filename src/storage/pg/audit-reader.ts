import type pg from "pg";
import type { ChainRow } from "../../audit/verify.ts";
import type { AuditQuery, AuditReader } from "../ports.ts";

const PAGE = 1000;
const SELECT =
  'SELECT id::float8 AS seq, request_id AS "requestId", at::float8 AS at, event, actor, detail, prev_hash AS "prevHash", hash FROM audit_log';

/**
 * Reads the audit chain in seq order in keyset pages of 1000 by id (bounded
 * memory, no long-lived cursor or transaction). `sinceMs` starts at the first
 * event at or after that time and then keeps every later event (one chain).
 */
export function createPgAuditReader(pool: pg.Pool): AuditReader {
  return {
    async *iterate(query: AuditQuery = {}): AsyncIterable<ChainRow> {
      let after = 0;
      if (query.sinceMs !== undefined && query.sinceMs !== null) {
        const { rows } = await pool.query<{ id: number | null }>(
          "SELECT min(id)::float8 AS id FROM audit_log WHERE at >= $1",
          [query.sinceMs],
        );
        const first = rows[0]?.id ?? null;
        if (first === null) return;
        after = first - 1;
      }
      const byRequest = query.requestId !== undefined && query.requestId !== null;
      for (;;) {
        const { rows } = byRequest
          ? await pool.query<ChainRow>(
              `${SELECT} WHERE request_id = $1 AND id > $2 ORDER BY id LIMIT ${PAGE}`,
              [query.requestId, after],
            )
          : await pool.query<ChainRow>(`${SELECT} WHERE id > $1 ORDER BY id LIMIT ${PAGE}`, [after]);
        yield* rows;
        const last = rows.at(-1);
        if (last === undefined || rows.length < PAGE) return;
        after = last.seq;
      }
    },
    async head() {
      const { rows } = await pool.query<{ seq: number; hash: string | null }>(
        "SELECT id::float8 AS seq, hash FROM audit_log ORDER BY id DESC LIMIT 1",
      );
      return rows[0] ?? null;
    },
  };
}
