import type { RequestResource } from "../domain/vocabulary.ts";
import type { Deps } from "./deps.ts";
import { afterFinal, finalizeInTx } from "./finalize.ts";
import { toResource } from "./resource.ts";

export type CancelResult =
  | { kind: "cancelled"; resource: RequestResource }
  | { kind: "not_found" }
  | { kind: "conflict"; resource: RequestResource };

/** Pending → cancelled by the agent that asked; anything else is a conflict. */
export async function cancelRequest(
  deps: Deps,
  agentId: string,
  id: string,
  reason: string | null,
): Promise<CancelResult> {
  const { store } = deps;
  const row = await store.getRequest(id);
  if (!row || row.agent !== agentId) return { kind: "not_found" };
  const now = deps.clock.now();
  const done = await deps.writes.run(async () =>
    finalizeInTx(
      deps,
      row,
      {
        resolution: "cancelled_by_agent",
        actor: `agent:${agentId}`,
        detail: { reason },
      },
      now,
    ),
  );
  if (done) await afterFinal(deps, id);
  const after = await store.getRequest(id);
  if (!after) return { kind: "not_found" };
  const resource = toResource(after, await store.decisionsFor(id));
  return done ? { kind: "cancelled", resource } : { kind: "conflict", resource };
}
