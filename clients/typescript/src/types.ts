/**
 * The shapes of countersign's agent API (CONTRACT §3, §6, §7, §9). Written out here so the
 * package never depends on the service's code; test/client/types.test.ts in the service's
 * repository fails when they drift from the service's zod schemas.
 */

export const REQUEST_STATUSES = ["pending", "approved", "rejected", "expired", "cancelled"] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export type Resolution =
  | "approved_by_humans"
  | "approved_by_policy"
  | "rejected_by_human"
  | "rejected_by_policy"
  | "approval_timeout"
  | "cancelled_by_agent"
  | "changes_requested";

export type RiskTier = "low" | "medium" | "high" | "critical";

export interface Risk {
  tier?: RiskTier | undefined;
  score?: number | undefined;
  reasons?: string[] | undefined;
}

export interface EvidenceItem {
  title: string;
  text?: string | undefined;
  url?: string | undefined;
  format?: "plain" | "markdown" | undefined;
}

/** The body of `POST /v1/requests`. Required: `action`, `summary`, `params`. */
export interface CreateRequestBody {
  action: string;
  summary: string;
  target?: string | undefined;
  params: Record<string, unknown>;
  reason?: string | undefined;
  risk?: Risk | undefined;
  evidence?: EvidenceItem[] | undefined;
  run_id?: string | undefined;
  on_behalf_of?: string | undefined;
  callback_url?: string | undefined;
  /** The id of an earlier request of this agent that this one revises (CONTRACT §9). */
  revises?: string | undefined;
  /** May shorten, never lengthen, the policy's TTL: `90s`, `30m`, `4h`, `2d`. */
  ttl?: string | undefined;
}

export interface Decision {
  decision: "approve" | "reject";
  approver: { slack_user_id: string; name: string | null };
  comment: string | null;
  at: string;
  /** The args hash this vote was cast on (after an edit, the edited version's). */
  args_hash: string;
}

export interface Outcome {
  status: "succeeded" | "failed";
  detail?: string | null | undefined;
  at: string;
}

/** The request resource as `GET /v1/requests/:id` returns it. */
export interface RequestResource {
  id: string;
  status: RequestStatus;
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
  agent: string;
  policy: string;
  role: string | null;
  approvals_required: number;
  decisions: Decision[];
  created_at: string;
  expires_at: string;
  escalated_at: string | null;
  decided_at: string | null;
  resolution: Resolution | null;
  outcome: Outcome | null;
  slack: { channel: string; ts: string | null } | null;
  /** A compact JWS when `approved` (CONTRACT §6), else null. */
  approval_token: string | null;
  /** The params an approver edited before approving (CONTRACT §9); null unless edited. */
  approved_params: Record<string, unknown> | null;
  approved_args_hash: string | null;
  /** Slack user id of who edited the params; null unless edited. */
  edited_by: string | null;
  /** The request this one revises, and on a revised one its latest revision (CONTRACT §9). */
  revises: string | null;
  revised_by: string | null;
}

/** Body of `POST /v1/requests/:id/outcome`. */
export interface OutcomeBody {
  status: "succeeded" | "failed";
  detail?: string | undefined;
}

/** One audit event of `GET /v1/requests/:id/events` (CONTRACT §7). */
/** The answer of `POST /v1/tokens/consume` the first time. */
export interface ConsumedToken {
  jti: string;
  /** ISO 8601 UTC with milliseconds. */
  consumed_at: string;
}

export interface AuditEvent {
  seq: number;
  at: string;
  event: string;
  /** `slack:<user id>`, `agent:<id>`, `policy:<name>`, `system:<part>`, or null for countersign itself. */
  actor: string | null;
  detail: unknown;
}

export interface ApiIssue {
  path: string;
  message: string;
}

/** The error body every refusal has. */
export interface ApiErrorBody {
  error: { code: string; message: string; issues?: ApiIssue[] | undefined };
}

/** The body of a `request.decided` callback. */
export interface DecidedCallback {
  type: "request.decided";
  data: RequestResource;
}

/** The claims of an approval token (CONTRACT §6). */
export interface ApprovalClaims {
  iss: string;
  sub: string;
  aud: string;
  act: string;
  args_hash: string;
  iat: number;
  exp: number;
  jti: string;
  policy: string;
  approvers: string[];
}
