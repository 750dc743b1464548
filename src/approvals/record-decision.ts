import { approvedArgsHash, approvesVersion } from "../domain/approved-version.ts";
import type { DecisionRecord, RequestRecord } from "../domain/records.ts";
import { expiryDue, type RefusalReason } from "../domain/transitions.ts";
import type { RequestResource } from "../domain/vocabulary.ts";
import type { WriteOptions } from "../storage/ports.ts";
import { authorityOf, type MembershipCheck } from "./authority.ts";
import { type ClickOrigin, originRefusal } from "./click-origin.ts";
import type { Deps } from "./deps.ts";
import { afterFinal, finalizeInTx, queueSlack } from "./finalize.ts";
import { toResource } from "./resource.ts";
import type { EphemeralMessage } from "./slack-effects.ts";

export interface DecisionInput {
  requestId: string;
  user: { id: string; name: string | null };
  decision: "approve" | "reject";
  comment: string | null;
  /** Where the click happened, for the ephemeral answer; null for none. */
  channel: string | null;
  /** A rejection that asks the agent for a revision (CONTRACT §9): resolution `changes_requested`. */
  changesRequested?: boolean;
  /** The message a button was clicked on; a click counts only for that message's request. */
  origin?: ClickOrigin;
}

/** What a screened click is about: a vote, or opening the edit modal. */
export type ClickKind = DecisionInput["decision"] | "edit";

export type DecisionResult =
  | { kind: "not_found" }
  | { kind: "already_final"; resource: RequestResource }
  | { kind: "refused"; reason: RefusalReason; resource: RequestResource }
  | { kind: "recorded"; resource: RequestResource; final: boolean };

/**
 * Records an approver's click. The transaction re-reads the request, so the
 * first final decision wins however many clicks race, and each approver counts once.
 */
export async function recordDecision(
  deps: Deps,
  input: DecisionInput,
  isMember: MembershipCheck,
  write: WriteOptions = {},
): Promise<DecisionResult> {
  const { store, clock } = deps;
  const refusal = await refusalFor(deps, input, isMember);
  if (refusal === "not_found") return { kind: "not_found" };
  const now = clock.now();
  const actor = `slack:${input.user.id}`;
  // Group commit: resolves only once the vote (or the refusal's audit row) is committed.
  const step = await deps.writes.run(async (): Promise<Step> => {
    const row = await store.getRequest(input.requestId);
    if (!row) return { kind: "not_found" };
    const votes = await store.decisionsFor(row.id);
    const stop = await refuseInTx(deps, row, votes, input, refusal, now);
    if (stop !== null) return stop;
    const version = approvedArgsHash(row);
    await castVoteInTx(deps, row.id, votes, input, version, now);
    await store.audit(row.id, now, `vote_${input.decision}`, actor, {
      name: input.user.name,
      comment: input.comment,
    });
    if (input.decision === "reject") {
      if (input.changesRequested === true) {
        await store.audit(row.id, now, "changes_requested", actor, { comment: input.comment });
      }
      const resolution = input.changesRequested === true ? "changes_requested" : "rejected_by_human";
      await finalizeInTx(deps, row, { resolution, actor }, now);
      return { kind: "recorded", final: true };
    }
    if (approvalsOn(row, votes, version, input.user.id) + 1 >= row.approvalsRequired) {
      await finalizeInTx(deps, row, { resolution: "approved_by_humans", actor }, now);
      return { kind: "recorded", final: true };
    }
    await queueSlack(deps, row.id, { kind: "update" }, now);
    return { kind: "recorded", final: false };
  }, write);

  return finish(deps, input.requestId, step);
}

/** Inserts the user's vote, or moves their earlier vote to this decision and version. */
export async function castVoteInTx(
  deps: Pick<Deps, "store">,
  requestId: string,
  votes: DecisionRecord[],
  input: Pick<DecisionInput, "user" | "decision" | "comment">,
  version: string,
  now: number,
): Promise<void> {
  const mine = votes.find((v) => v.approverId === input.user.id);
  if (mine) await deps.store.changeVote(mine.id, input.decision, input.comment, now, version);
  else {
    await deps.store.insertDecision({
      requestId,
      approverId: input.user.id,
      approverName: input.user.name,
      decision: input.decision,
      comment: input.comment,
      at: now,
      argsHash: version,
    });
  }
}

/** Approvals that count on `version`, leaving out `except` (whose vote is being cast). */
export function approvalsOn(
  row: Pick<RequestRecord, "argsHash">,
  votes: DecisionRecord[],
  version: string,
  except: string,
): number {
  return votes.filter((v) => v.approverId !== except && approvesVersion(v, row, version)).length;
}

/**
 * Checks a click without recording a vote (the Reject button, before its
 * modal opens): refusals and late clicks are audited and answered the same way.
 */
export async function screenClick(
  deps: Deps,
  input: Omit<DecisionInput, "decision"> & { decision: ClickKind },
  isMember: MembershipCheck,
  write: WriteOptions = {},
): Promise<DecisionResult | { kind: "allowed" }> {
  const refusal = await refusalFor(deps, input, isMember);
  if (refusal === "not_found") return { kind: "not_found" };
  const now = deps.clock.now();
  const step = await deps.writes.run(async (): Promise<Step | null> => {
    const row = await deps.store.getRequest(input.requestId);
    if (!row) return { kind: "not_found" };
    return refuseInTx(deps, row, await deps.store.decisionsFor(row.id), input, refusal, now);
  }, write);
  return step === null ? { kind: "allowed" } : finish(deps, input.requestId, step);
}

/** The authority check happens before the transaction because a user group lookup may call Slack. */
export async function refusalFor(
  deps: Deps,
  input: Pick<DecisionInput, "requestId" | "user" | "origin">,
  isMember: MembershipCheck,
): Promise<RefusalReason | null | "not_found"> {
  const row = await deps.store.getRequest(input.requestId);
  if (!row) return "not_found";
  if (row.status !== "pending") return null;
  const misplaced = input.origin === undefined ? null : originRefusal(row, input.origin);
  if (misplaced !== null) {
    deps.log.warn(
      { requestId: row.id, user: input.user.id, origin: input.origin, reason: misplaced },
      "click on a message that is not this request's; refusing it",
    );
    return misplaced;
  }
  const role = row.role === null ? undefined : deps.config.roles[row.role];
  try {
    return await authorityOf(row, role, input.user.id, isMember);
  } catch (error) {
    // Membership could not be checked (Slack slow or down, unknown user group, no
    // recent member list): fail closed, and say so — this is not "not an approver".
    deps.log.warn(
      { err: error, requestId: row.id, user: input.user.id },
      "usergroup membership could not be checked; refusing the click",
    );
    return "membership_unknown";
  }
}

/** Inside the transaction: a late click or a refusal is audited and answered ephemerally. */
export async function refuseInTx(
  deps: Deps,
  row: RequestRecord,
  votes: DecisionRecord[],
  input: Pick<DecisionInput, "user" | "channel"> & { decision: ClickKind },
  refusal: RefusalReason | null,
  now: number,
): Promise<Step | null> {
  const actor = `slack:${input.user.id}`;
  const ephemeral = async (message: EphemeralMessage) => {
    if (input.channel !== null) {
      await queueSlack(
        deps,
        row.id,
        { kind: "ephemeral", channel: input.channel, user: input.user.id, message },
        now,
      );
    }
  };
  // The TTL passed but the sweep has not run yet: fail closed exactly as it would.
  const expiredNow =
    expiryDue(row, now) &&
    (await finalizeInTx(
      deps,
      row,
      {
        resolution: "approval_timeout",
        actor: "system:ttl",
        detail: { ttl_ms: row.ttlMs },
      },
      now,
    ));
  if (row.status !== "pending" || expiredNow) {
    const status = expiredNow ? "expired" : row.status;
    await deps.store.audit(row.id, now, "late_click", actor, { decision: input.decision, status });
    await ephemeral({ type: "already_final" });
    return { kind: "already_final", expiredNow };
  }
  // A vote on an edited-away version no longer counts, so approving the current one is not a repeat.
  const mine = votes.find((v) => v.approverId === input.user.id);
  const votedThis = mine !== undefined && approvesVersion(mine, row, approvedArgsHash(row));
  const reason = refusal ?? (input.decision === "approve" && votedThis ? "already_voted" : null);
  if (reason === null) return null;
  await deps.store.audit(row.id, now, "refused_click", actor, { decision: input.decision, reason });
  await ephemeral({ type: "refused", reason });
  return { kind: "refused", reason };
}

export async function finish(deps: Deps, requestId: string, step: Step): Promise<DecisionResult> {
  const { store } = deps;
  if (step.kind === "not_found") return step;
  if (step.kind === "refused") deps.metrics.refusedClick(step.reason);
  const row = await store.getRequest(requestId);
  if (!row) return { kind: "not_found" };
  const final = step.kind === "recorded" ? step.final : step.kind === "already_final" && step.expiredNow;
  if (final) await afterFinal(deps, requestId, row);
  else if (step.kind === "recorded") deps.events.notify(requestId);
  return { ...step, resource: toResource(row, await store.decisionsFor(row.id)) };
}

export type Step =
  | { kind: "not_found" }
  | { kind: "already_final"; expiredNow: boolean }
  | { kind: "refused"; reason: RefusalReason }
  | { kind: "recorded"; final: boolean };
