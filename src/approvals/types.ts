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
  /** A reviewer sent it back for a revision: status `rejected`. */
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

/** A time as every answer gives it. */
export const isoTime = z.iso.datetime({ precision: 3 }).describe("ISO 8601 UTC with milliseconds");

export const outcomeSchema = z.object({
  status: z.enum(["succeeded", "failed"]),
  detail: z.string().max(2000).nullable().optional(),
  at: isoTime,
});
export type Outcome = z.infer<typeof outcomeSchema>;

/** One approver's vote as the API shows it. */
export const decisionViewSchema = z.object({
  decision: z.enum(["approve", "reject"]),
  approver: z.object({ slack_user_id: z.string(), name: z.string().nullable() }),
  comment: z.string().nullable(),
  at: isoTime,
  args_hash: z
    .string()
    .describe("the args hash this vote was cast on (differs from the request's after an edit)"),
});
export type DecisionView = z.infer<typeof decisionViewSchema>;

/**
 * The request resource, exactly as the API returns it.
 * The one source of its type and of its schema in /openapi.json.
 */
export const requestResourceSchema = z.object({
  id: z.string().describe("req_…"),
  status: z.enum(STATUSES),
  action: z.string(),
  summary: z.string(),
  target: z.string().nullable(),
  params: z.record(z.string(), z.unknown()),
  reason: z.string().nullable(),
  risk: riskSchema.nullable(),
  evidence: z.array(evidenceItemSchema),
  run_id: z.string().nullable(),
  on_behalf_of: z.string().nullable(),
  callback_url: z.string().nullable(),
  args_hash: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .describe("sha256:<hex of SHA-256 over the RFC 8785 canonical JSON of params>"),
  approved_params: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("the params a reviewer approved instead (approve with edits); null unless edited"),
  approved_args_hash: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .nullable()
    .describe("args hash of approved_params; the approval token binds it; null unless edited"),
  edited_by: z.string().nullable().describe("Slack user id of who edited the params; null unless edited"),
  revises: z.string().nullable().describe("the request this one revises (posted in its thread)"),
  revised_by: z.string().nullable().describe("the latest request that revises this one"),
  agent: z.string(),
  policy: z.string(),
  role: z.string().nullable(),
  approvals_required: z.number().int().min(1),
  decisions: z.array(decisionViewSchema),
  created_at: isoTime,
  expires_at: isoTime,
  escalated_at: isoTime.nullable(),
  decided_at: isoTime.nullable(),
  resolution: z.enum(RESOLUTIONS).nullable(),
  outcome: outcomeSchema.nullable(),
  slack: z.object({ channel: z.string(), ts: z.string().nullable() }).nullable(),
  approval_token: z
    .string()
    .nullable()
    .describe(
      "Compact JWS (EdDSA) when status is approved, verifiable against /.well-known/jwks.json; null otherwise",
    ),
});
export type RequestResource = z.infer<typeof requestResourceSchema>;
