import type { RequestRecord } from "../domain/records.ts";
import type { RequestResource } from "../domain/vocabulary.ts";
import type { Deps } from "./deps.ts";
import { toResource } from "./resource.ts";

export type GetResult = { kind: "found"; resource: RequestResource } | { kind: "not_found" };

/** An agent sees only its own requests: another agent's id is simply not found. */
async function ownRow(
  deps: Pick<Deps, "store">,
  agentId: string,
  id: string,
): Promise<RequestRecord | undefined> {
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
  const deadline = deps.clock.now() + waitMs;
  let row: RequestRecord | undefined;
  // Any change wakes the wait (a first vote of two, an escalation); keep waiting until the status is final.
  for (;;) {
    const left = deadline - deps.clock.now();
    // Listening starts before the read: a change committed (on any replica) while
    // the read is on its way still wakes this wait instead of slipping past it.
    const done = new AbortController();
    const changed =
      left > 0 && !signal.aborted ? deps.events.wait(id, left, AbortSignal.any([signal, done.signal])) : null;
    row = await ownRow(deps, agentId, id);
    if (changed === null || row?.status !== "pending") {
      done.abort();
      break;
    }
    const woke = await changed;
    done.abort();
    if (woke !== "changed") {
      // Timed out or aborted: answer with the request as it stands now.
      row = await ownRow(deps, agentId, id);
      break;
    }
  }
  return row
    ? { kind: "found", resource: toResource(row, await deps.store.decisionsFor(row.id)) }
    : { kind: "not_found" };
}
