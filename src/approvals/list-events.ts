import type { AuditRecord } from "../domain/records.ts";
import type { Deps } from "./deps.ts";

/** One entry of `GET /v1/requests/:id/events` (CONTRACT §7). */
export interface RequestEvent {
  seq: number;
  at: string;
  event: string;
  /** `slack:<user id>`, `agent:<id>`, `policy:<name>`, `system:<part>`, or null for countersign itself. */
  actor: string | null;
  detail: unknown;
}

export type ListEventsResult = { kind: "found"; events: RequestEvent[] } | { kind: "not_found" };

/** The audit events of one of the agent's own requests, in order (details were redacted when written). */
export async function listEvents(
  deps: Pick<Deps, "store">,
  agentId: string,
  id: string,
): Promise<ListEventsResult> {
  const row = await deps.store.getRequest(id);
  if (row?.agent !== agentId) return { kind: "not_found" };
  return { kind: "found", events: (await deps.store.auditFor(id)).map(toEvent) };
}

function toEvent(r: AuditRecord): RequestEvent {
  return {
    seq: r.id,
    at: new Date(r.at).toISOString(),
    event: r.event,
    actor: r.actor,
    detail: parseDetail(r.detail),
  };
}

function parseDetail(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
