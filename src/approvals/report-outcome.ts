import { iso } from "../clock.ts";
import type { Outcome, RequestResource } from "../domain/vocabulary.ts";
import type { Deps } from "./deps.ts";
import { queueSlack } from "./finalize.ts";
import type { OutcomeBody } from "./request-body.ts";
import { toResource } from "./resource.ts";

export type OutcomeResult =
  | { kind: "recorded"; resource: RequestResource }
  | { kind: "not_found" }
  | { kind: "conflict"; message: string; resource: RequestResource };

/** The agent says how the approved action went: once, and only for an approved request. */
export async function reportOutcome(
  deps: Deps,
  agentId: string,
  id: string,
  body: OutcomeBody,
): Promise<OutcomeResult> {
  const { store } = deps;
  const row = await store.getRequest(id);
  if (!row || row.agent !== agentId) return { kind: "not_found" };
  const now = deps.clock.now();
  const outcome: Outcome = { status: body.status, detail: body.detail ?? null, at: iso(now) };
  const stored = await deps.writes.run(async () => {
    if (!(await store.setOutcome(id, JSON.stringify(outcome)))) return false;
    await store.audit(id, now, "outcome", `agent:${agentId}`, outcome);
    if (row.role !== null) await queueSlack(deps, id, { kind: "update" }, now);
    return true;
  });
  const after = await store.getRequest(id);
  if (!after) return { kind: "not_found" };
  const resource = toResource(after, await store.decisionsFor(id));
  if (stored) {
    deps.events.notify(id);
    return { kind: "recorded", resource };
  }
  const message =
    after.status !== "approved"
      ? `an outcome can only be reported for an approved request; this one is ${after.status}`
      : "an outcome was already reported for this request";
  return { kind: "conflict", message, resource };
}
