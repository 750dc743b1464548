import type { RequestRow } from "../db/schema.ts";
import type { Deps } from "./deps.ts";
import { toResource } from "./resource.ts";
import type { RequestResource } from "./types.ts";

export type GetResult = { kind: "found"; resource: RequestResource } | { kind: "not_found" };

/** An agent sees only its own requests: another agent's id is simply not found. */
async function ownRow(
  deps: Pick<Deps, "store">,
  agentId: string,
  id: string,
): Promise<RequestRow | undefined> {
  const row = await deps.store.getRequest(id);
  return row?.agent === agentId ? row : undefined;
}

/** One of the agent's own requests, as the API shows it. */
export async function getRequest(deps: Pick<Deps, "store">, agentId: string, id: string): Promise<GetResult> {
  const row = await ownRow(deps, agentId, id);
  return row
    ? { kind: "found", resource: toResource(row, await deps.store.decisionsFor(row.id)) }
    : { kind: "not_found" };
}

/**
 * The request once it leaves `pending`, or as it stands after `waitMs` (by the
 * deps' clock) or when `signal` aborts. Woken by the verbs' change events, not by polling.
 */
export async function waitForDecision(
  deps: Pick<Deps, "store" | "events" | "clock">,
  agentId: string,
  id: string,
  waitMs: number,
  signal: AbortSignal,
): Promise<GetResult> {
  let row = await ownRow(deps, agentId, id);
  const deadline = deps.clock.now() + waitMs;
  // Any change wakes the wait (a first vote of two, an escalation); keep waiting until the status is final.
  while (row?.status === "pending" && !signal.aborted) {
    const left = deadline - deps.clock.now();
    if (left <= 0) break;
    if ((await deps.events.wait(row.id, left, signal)) !== "changed") break;
    row = await ownRow(deps, agentId, id);
  }
  return row
    ? { kind: "found", resource: toResource(row, await deps.store.decisionsFor(row.id)) }
    : { kind: "not_found" };
}
