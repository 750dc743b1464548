/**
 * Every audit event countersign records, one closed set (CONTRACT §5, §7).
 * A new kind of event is added here first; the store accepts nothing else.
 */
export const AUDIT_EVENTS = [
  // intake
  "created", // actor agent:<id>; detail: action, args_hash, policy (the matched one)
  "routed", // detail: policy, role
  // Slack delivery (outbox)
  "posted",
  "message_updated",
  "escalation_dm_sent",
  "ephemeral_sent",
  "reminder_posted",
  "escalation_notice_posted",
  "slack_skipped",
  "slack_dropped",
  // reviewers
  "vote_approve", // actor slack:<user>
  "vote_reject",
  "refused_click", // actor slack:<user>; detail: decision, reason (why it was refused)
  "late_click",
  // final statuses (finalize): detail.resolution says who/what decided
  "approved",
  "rejected",
  "expired",
  "cancelled",
  // sweep
  "escalated",
  "escalation_skipped",
  "reminded",
  // after the decision
  "outcome",
  "callback_queued",
  "callback_delivered",
  "callback_failed", // detail.result: retry, gone or gave_up (given up for good)
  // operator
  "key_rotated", // actor cli:keys-rotate; detail: kid (new), retired (old)
  // Reserved for issues 11 and 13 (approval tokens, reviewer actions): record them under these names.
  "token_issued",
  "token_reissued", // actor agent:<id>; detail: kid, jti, exp (the new token), replaces (the old jti)
  "edited",
  "changes_requested",
  "sampled_out",
] as const;

export type AuditEvent = (typeof AUDIT_EVENTS)[number];
