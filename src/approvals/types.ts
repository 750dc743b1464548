import { z } from "zod";

export const STATUSES = ["pending", "approved", "rejected", "expired", "cancelled"] as const;
export type Status = (typeof STATUSES)[number];

export const FINAL_STATUSES = ["approved", "rejected", "expired", "cancelled"] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

export const RESOLUTIONS = [
  "approved_by_humans",
  "approved_by_policy",
  "rejected_by_human",
  "rejected_by_policy",
  "approval_timeout",
  "cancelled_by_agent",
  /** A reviewer sent it back for a revision (CONTRACT §9): status `rejected`. */
  "changes_requested",
] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export const RISK_TIERS = ["low", "medium", "high", "critical"] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

export const riskSchema = z.object({
  tier: z.enum(RISK_TIERS).optional(),
  score: z.number().min(0).max(100).optional(),
  reasons: z.array(z.string().max(1000)).max(50).optional(),
});
export type Risk = z.infer<typeof riskSchema>;

export const evidenceItemSchema = z.object({
  title: z.string().min(1).max(500),
  text: z.string().max(100_000).optional(),
  url: z
    .url({ protocol: /^https?$/ })
    .max(3000)
    .optional(),
  format: z.enum(["plain", "markdown"]).optional(),
});
export type EvidenceItem = z.infer<typeof evidenceItemSchema>;

export const outcomeSchema = z.object({
  status: z.enum(["succeeded", "failed"]),
  detail: z.string().max(2000).nullable().optional(),
  at: z.string(),
});
export type Outcome = z.infer<typeof outcomeSchema>;

/** One approver's vote as the API shows it. */
export interface DecisionView {
  decision: "approve" | "reject";
  approver: { slack_user_id: string; name: string | null };
  comment: string | null;
  at: string;
  /** The args hash this vote was cast on (differs from the request's after an edit). */
  args_hash: string;
}

/** The request resource of CONTRACT §3, exactly as the API returns it. */
export interface RequestResource {
  id: string;
  status: Status;
  action: string;
  summary: string;
  target: string | null;
  params: Record<string, unknown>;
  reason: string | null;
  risk: Risk | null;
  evidence: EvidenceItem[];
  run_id: string | null;
  on_behalf_of: string | null;
  callback_url: string | null;
  args_hash: string;
  /** Approve with edits (CONTRACT §9): what the reviewer approved instead; both null unless edited. */
  approved_params: Record<string, unknown> | null;
  approved_args_hash: string | null;
  /** Slack user id of who edited the params, null unless edited. */
  edited_by: string | null;
  /** The request this one revises, and (on a revised request) its latest revision. */
  revises: string | null;
  revised_by: string | null;
  agent: string;
  policy: string;
  role: string | null;
  approvals_required: number;
  decisions: DecisionView[];
  created_at: string;
  expires_at: string;
  escalated_at: string | null;
  decided_at: string | null;
  resolution: Resolution | null;
  outcome: Outcome | null;
  slack: { channel: string; ts: string | null } | null;
}
