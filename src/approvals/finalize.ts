import { randomUUID } from "node:crypto";
import { approversOfVersion } from "../domain/approved-version.ts";
import type { RequestDecided } from "../domain/callback-payload.ts";
import type { RequestRecord } from "../domain/records.ts";
import { finalState } from "../domain/transitions.ts";
import type { Resolution } from "../domain/vocabulary.ts";
import type { Deps } from "./deps.ts";
import { toResource } from "./resource.ts";
import type { SlackEffect } from "./slack-effects.ts";

/** Queues a Slack side effect in the caller's transaction. */
export function queueSlack(
  deps: Pick<Deps, "store">,
  requestId: string,
  effect: SlackEffect,
  now: number,
): Promise<void> {
  return deps.store.enqueueSlack(requestId, effect.kind, effect, now);
}

/**
 * Inside the caller's transaction: moves a pending request to the final status its resolution implies
 * with a conditional update, audits it, queues the Slack update and the
 * callback. Returns false (and changes nothing) when it was no longer pending.
 */
export async function finalizeInTx(
  deps: Pick<Deps, "store" | "config" | "tokens">,
  row: RequestRecord,
  change: { resolution: Resolution; actor: string | null; detail?: unknown },
  now: number,
): Promise<boolean> {
  const { store } = deps;
  const state = finalState(change.resolution);
  // Signed here, in the approving transaction: an approved request never lacks its token.
  const issued =
    state.status === "approved"
      ? await deps.tokens.issueInTx(row, approversOfVersion(row, await store.decisionsFor(row.id)), now)
      : null;
  const approvalToken = issued?.token ?? null;
  if (!(await store.finalize({ id: row.id, ...state, decidedAt: now, approvalToken }))) return false;
  await store.audit(row.id, now, state.status, change.actor, {
    resolution: change.resolution,
    ...asObject(change.detail),
    ...(issued === null ? {} : { token: issued.audit }),
  });
  if (row.role !== null) await queueSlack(deps, row.id, { kind: "update" }, now);
  if (row.callbackUrl !== null) await queueCallbackInTx(deps, row.id, now);
  return true;
}

function asObject(detail: unknown): Record<string, unknown> {
  return detail !== null && typeof detail === "object" ? (detail as Record<string, unknown>) : {};
}

/** The `request.decided` delivery, with the resource as it stands after the change. */
export async function queueCallbackInTx(
  deps: Pick<Deps, "store">,
  requestId: string,
  now: number,
): Promise<void> {
  const row = await deps.store.getRequest(requestId);
  if (!row || row.callbackUrl === null) return;
  const id = `msg_${randomUUID().replaceAll("-", "")}`;
  const event: RequestDecided = {
    type: "request.decided",
    timestamp: new Date(now).toISOString(),
    data: toResource(row, await deps.store.decisionsFor(requestId)),
  };
  const body = JSON.stringify(event);
  await deps.store.insertCallback({
    id,
    requestId,
    agent: row.agent,
    url: row.callbackUrl,
    body,
    createdAt: now,
    nextAttemptAt: now,
  });
  await deps.store.audit(requestId, now, "callback_queued", null, { webhook_id: id });
}

/** After commit: wake long-polls and count the transition. */
export async function afterFinal(
  deps: Pick<Deps, "events" | "metrics" | "store">,
  requestId: string,
  // The row as committed, when the caller has already read it.
  committed?: RequestRecord,
): Promise<void> {
  const row = committed ?? (await deps.store.getRequest(requestId));
  if (row?.resolution && row.decidedAt !== null) {
    deps.metrics.finalized(row.status, row.resolution, row.createdAt, row.decidedAt, row.policy);
  }
  deps.events.notify(requestId);
}
