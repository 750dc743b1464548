import { approvedArgsHash, approvedParamsJson } from "../domain/approved-version.ts";
import { sha256Hex } from "../domain/canonical-json.ts";
import type { WriteOptions } from "../storage/ports.ts";
import type { MembershipCheck } from "./authority.ts";
import type { Deps } from "./deps.ts";
import { finalizeInTx, queueSlack } from "./finalize.ts";
import { diffParams, parseEditedParams } from "./params-edit.ts";
import {
  approvalsOn,
  castVoteInTx,
  type DecisionResult,
  finish,
  refusalFor,
  refuseInTx,
  type Step,
} from "./record-decision.ts";

export interface EditInput {
  requestId: string;
  user: { id: string; name: string | null };
  /** The modal's text: the params as JSON, without the redacted keys. */
  text: string;
}

export type EditResult = DecisionResult | { kind: "invalid"; message: string };

/**
 * Approve with edits (CONTRACT §9): the approver's version of the params becomes the one
 * approvals count on, and their submission is their approval of it. Decided in one
 * transaction through the same conditional update as a click, so an edit racing an
 * approve or an expiry either lands on a pending request or changes nothing.
 */
export async function approveWithEdits(
  deps: Deps,
  input: EditInput,
  isMember: MembershipCheck,
  write: WriteOptions = {},
): Promise<EditResult> {
  const { store, clock, config } = deps;
  const refusal = await refusalFor(deps, input, isMember);
  if (refusal === "not_found") return { kind: "not_found" };
  const now = clock.now();
  const actor = `slack:${input.user.id}`;
  // Through the group commit like every click: committed before the modal is answered.
  const step = await deps.writes.run(async (): Promise<Step | { kind: "invalid"; message: string }> => {
    const row = await store.getRequest(input.requestId);
    if (!row) return { kind: "not_found" };
    const votes = await store.decisionsFor(row.id);
    const stop = await refuseInTx(
      deps,
      row,
      votes,
      { ...input, channel: null, decision: "edit" },
      refusal,
      now,
    );
    if (stop !== null) return stop;
    const current = JSON.parse(approvedParamsJson(row)) as Record<string, unknown>;
    const edit = parseEditedParams(input.text, current, config.redact);
    if (!edit.ok) return { kind: "invalid", message: edit.message };
    const previous = approvedArgsHash(row);
    const hash = sha256Hex(edit.canonical);
    if (hash === previous) {
      return {
        kind: "invalid",
        message: "Nothing was changed. Use Approve to approve the parameters as they are.",
      };
    }
    // Editing back to what the agent proposed is no edit at all.
    const reverted = hash === row.argsHash;
    if (
      !(await store.setEdit(row.id, reverted ? null : edit.canonical, reverted ? null : hash, input.user.id))
    ) {
      return { kind: "already_final", expiredNow: false };
    }
    const original = JSON.parse(row.params) as unknown;
    await store.audit(row.id, now, "edited", actor, {
      name: input.user.name,
      args_hash: row.argsHash,
      previous_args_hash: previous,
      approved_args_hash: hash,
      // Key names only: values may be secrets, and the hashes already pin them.
      changed: diffParams(original, edit.params).map((c) => c.path),
    });
    await castVoteInTx(
      deps,
      row.id,
      votes,
      { user: input.user, decision: "approve", comment: null },
      hash,
      now,
    );
    await store.audit(row.id, now, "vote_approve", actor, {
      name: input.user.name,
      comment: null,
      args_hash: hash,
    });
    if (approvalsOn(row, votes, hash, input.user.id) + 1 >= row.approvalsRequired) {
      // Re-read: whoever signs the approval must see the edited version.
      const edited = (await store.getRequest(row.id)) ?? row;
      await finalizeInTx(deps, edited, { resolution: "approved_by_humans", actor }, now);
      return { kind: "recorded", final: true };
    }
    await queueSlack(deps, row.id, { kind: "update" }, now);
    return { kind: "recorded", final: false };
  }, write);
  if (step.kind === "invalid") return step;
  return finish(deps, input.requestId, step);
}
