import { z } from "zod";
import { AUDIT_EVENTS } from "../audit/events.ts";
import type { AuditRow } from "../db/schema.ts";
import type { Deps } from "./deps.ts";
import { isoTime } from "./types.ts";

/** One entry of `GET /v1/requests/:id/events`. */
export const requestEventSchema = z.object({
  seq: z.number().int().min(1).describe("position in the audit log (hash-chained; increasing, may skip)"),
  at: isoTime,
  event: z.enum(AUDIT_EVENTS),
  actor: z
    .string()
    .nullable()
    .describe(
      "`slack:<user id>`, `agent:<id>`, `policy:<name>`, `system:<part>`, or null for countersign itself",
    ),
  detail: z.unknown().describe("what the event records (values of redacted keys left out)"),
});
export type RequestEvent = z.infer<typeof requestEventSchema>;
export const requestEventsSchema = z.array(requestEventSchema);

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

function toEvent(r: AuditRow): RequestEvent {
  return {
    seq: r.id,
    at: new Date(r.at).toISOString(),
    event: r.event as RequestEvent["event"],
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
