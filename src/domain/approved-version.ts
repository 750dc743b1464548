import type { DecisionRecord, RequestRecord } from "./records.ts";

/**
 * The version of a request that approvals count on and that an approval binds:
 * the reviewer's edited params after an approve-with-edits, else what the agent proposed.
 * Approval tokens (CONTRACT §6) sign `approvedArgsHash(row)`.
 */
export function approvedArgsHash(row: Pick<RequestRecord, "argsHash" | "approvedArgsHash">): string {
  return row.approvedArgsHash ?? row.argsHash;
}

/** The params (canonical JSON text) an approval of this request covers. */
export function approvedParamsJson(row: Pick<RequestRecord, "params" | "approvedParams">): string {
  return row.approvedParams ?? row.params;
}

/**
 * The version a vote was cast on: its args hash, or the agent's original for
 * votes stored before edits existed (they carry none). The one definition of
 * "this vote is on this version".
 */
export function versionOfVote(
  vote: Pick<DecisionRecord, "argsHash">,
  row: Pick<RequestRecord, "argsHash">,
): string {
  return vote.argsHash ?? row.argsHash;
}

/** Whether a vote is an approval cast on `version`. */
export function approvesVersion(
  vote: Pick<DecisionRecord, "decision" | "argsHash">,
  row: Pick<RequestRecord, "argsHash">,
  version: string,
): boolean {
  return vote.decision === "approve" && versionOfVote(vote, row) === version;
}

/**
 * Slack ids of the approvals that count: votes cast on the approved version only
 * (after an edit, approvals of the agent's original no longer count). For token `approvers`.
 */
export function approversOfVersion(
  row: Pick<RequestRecord, "argsHash" | "approvedArgsHash">,
  votes: readonly Pick<DecisionRecord, "decision" | "approverId" | "argsHash">[],
): string[] {
  const version = approvedArgsHash(row);
  return votes.filter((v) => approvesVersion(v, row, version)).map((v) => v.approverId);
}
