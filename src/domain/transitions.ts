import type { FinalStatus, Resolution, Status } from "./vocabulary.ts";

/**
 * The one place that says how a request may move. Everything here is pure:
 * the database decides races, these functions decide what a move means.
 */

/** Each resolution implies exactly one final status. */
export const STATUS_OF = {
  approved_by_humans: "approved",
  approved_by_policy: "approved",
  rejected_by_human: "rejected",
  rejected_by_policy: "rejected",
  approval_timeout: "expired",
  cancelled_by_agent: "cancelled",
  changes_requested: "rejected",
} as const satisfies Record<Resolution, FinalStatus>;

/** A final state whose status agrees with its resolution: `{expired, approved_by_humans}` does not type-check. */
export type FinalState = {
  [R in Resolution]: { status: (typeof STATUS_OF)[R]; resolution: R };
}[Resolution];

/** The final state a resolution leads to. */
export function finalState<R extends Resolution>(resolution: R): Extract<FinalState, { resolution: R }> {
  // STATUS_OF is exhaustive and `satisfies`-checked, so the pair always agrees.
  return { status: STATUS_OF[resolution], resolution } as Extract<FinalState, { resolution: R }>;
}

/**
 * Why a click changes nothing although the request is still pending.
 * `membership_unknown`: Slack could not say whether the clicker is in the role's
 * user group (and no recent member list could); `wrong_message`: the button's
 * request is not the request of the message it is on; `message_not_recorded`:
 * the message it is on is not (yet) recorded for that request.
 */
export const REFUSAL_REASONS = [
  "not_an_approver",
  "requester",
  "already_voted",
  "membership_unknown",
  "wrong_message",
  "message_not_recorded",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** The fields of a request (RequestRecord) that say what is due. */
interface DueFields {
  status: Status;
  expiresAt: number;
  escalateAt: number | null;
  remindAt: number | null;
}

/** Past its ttl and still pending: it must expire (fail closed), whatever else is due. */
export function expiryDue(row: DueFields, now: number): boolean {
  return row.status === "pending" && row.expiresAt <= now;
}

/** Escalation time reached, not yet escalated, and not past the ttl (an expired request is never handed on). */
export function escalationDue(row: DueFields, now: number): boolean {
  return row.status === "pending" && row.escalateAt !== null && row.escalateAt <= now && row.expiresAt > now;
}

/** Reminder time reached, not yet reminded, and not past the ttl. */
export function reminderDue(row: DueFields, now: number): boolean {
  return row.status === "pending" && row.remindAt !== null && row.remindAt <= now && row.expiresAt > now;
}
