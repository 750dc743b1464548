import { iso } from "../clock.ts";
import { jtiOf } from "../tokens/claims.ts";
import type { Deps } from "./deps.ts";
import { toResource } from "./resource.ts";
import type { RequestResource } from "./types.ts";

export type ReissueResult =
  | { kind: "reissued"; resource: RequestResource }
  | { kind: "not_found" }
  | { kind: "conflict"; message: string }
  | { kind: "token_used"; message: string };

/** Thrown inside the transaction to roll back when the row changed under us. */
class Raced extends Error {}

/**
 * A fresh approval token for an approved request whose action has not run
 * yet (no outcome reported, its token not consumed): the same claims with a
 * new iat, exp and jti. The token it replaces is marked superseded in the
 * same transaction, so a gateway that consumes tokens runs the action once
 * whichever of the two it is shown.
 */
export async function reissueToken(deps: Deps, agentId: string, id: string): Promise<ReissueResult> {
  const { store } = deps;
  const now = deps.clock.now();
  type Step = Exclude<ReissueResult, { kind: "reissued" }> | { kind: "stored" };
  let result: Step;
  try {
    result = await deps.writes.run(async (): Promise<Step> => {
      const row = await store.getRequest(id);
      if (!row || row.agent !== agentId) return { kind: "not_found" };
      if (row.status !== "approved") {
        return {
          kind: "conflict",
          message: `only an approved request's token can be re-issued; this one is ${row.status}`,
        };
      }
      if (row.outcome !== null) {
        return {
          kind: "conflict",
          message: "an outcome was already reported for this request: the approved action has run",
        };
      }
      // Approved an instant ago and the token is being backfilled (see tokens/backfill.ts).
      if (row.approvalToken === null) throw new Raced();
      const previous = row.approvalToken;
      const superseded = await store.useToken({
        jti: jtiOf(previous),
        kind: "superseded",
        requestId: id,
        agent: agentId,
        at: now,
      });
      if (!superseded) {
        const use = await store.tokenUse(jtiOf(previous));
        return {
          kind: "token_used",
          message: `this request's token was already used${use ? ` at ${iso(use.at)}` : ""}: the approved action has run or is running`,
        };
      }
      const issued = await deps.tokens.reissueInTx(previous, now);
      if (!(await store.replaceApprovalToken(id, previous, issued.token))) throw new Raced();
      await store.audit(id, now, "token_reissued", `agent:${agentId}`, {
        ...issued.audit,
        replaces: issued.replaces,
      });
      return { kind: "stored" };
    });
  } catch (error) {
    if (!(error instanceof Raced)) throw error;
    return { kind: "conflict", message: "the request changed while its token was re-issued; try again" };
  }
  if (result.kind !== "stored") return result;
  // Committed: answer with the request as it now stands.
  const after = await store.getRequest(id);
  if (!after) return { kind: "not_found" };
  deps.events.notify(id);
  return { kind: "reissued", resource: toResource(after, await store.decisionsFor(id)) };
}
