import type { AuditRow } from "../db/schema.ts";

/** One entry of `GET /v1/requests/:id/events` (CONTRACT §7). */
export interface RequestEvent {
  seq: number;
  at: string;
  event: string;
  /** `slack:<user id>`, `agent:<id>`, `policy:<name>`, `system:<part>`, or null for countersign itself. */
  actor: string | null;
  detail: unknown;
}

/** Audit rows (already redacted when written) as the agent sees them, in order. */
export function toEventList(rows: readonly AuditRow[]): RequestEvent[] {
  return rows.map((r) => ({
    seq: r.id,
    at: new Date(r.at).toISOString(),
    event: r.event,
    actor: r.actor,
    detail: parseDetail(r.detail),
  }));
}

function parseDetail(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
