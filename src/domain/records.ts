import type { FinalState } from "./transitions.ts";
import type { Resolution, Status } from "./vocabulary.ts";

/**
 * What countersign stores, as plain records: the shapes every layer passes
 * around. Both drizzle schemas (src/storage/sqlite/schema.ts and
 * src/storage/pg/schema.ts) prove at compile time that their rows are exactly
 * these, so a column added to one schema and not here fails the typecheck.
 *
 * Times are integer milliseconds since the epoch; JSON fields hold canonical
 * JSON text, parsed with zod where it is read.
 */

export interface RequestRecord {
  id: string;
  agent: string;
  status: Status;
  resolution: Resolution | null;
  action: string;
  summary: string;
  target: string | null;
  /** Canonical JSON of the agent's params. */
  params: string;
  reason: string | null;
  /** JSON of the risk object, or null. */
  risk: string | null;
  /** JSON array of evidence items. */
  evidence: string;
  runId: string | null;
  onBehalfOf: string | null;
  callbackUrl: string | null;
  argsHash: string;
  policy: string;
  role: string | null;
  approvalsRequired: number;
  ttlMs: number;
  createdAt: number;
  expiresAt: number;
  /** Next reminder due; null once sent or when none is planned. */
  remindAt: number | null;
  /** Escalation due; null once escalated or when the policy has none. */
  escalateAt: number | null;
  escalatedAt: number | null;
  escalatedTo: string | null;
  decidedAt: number | null;
  /** JSON of the outcome the agent reported, or null. */
  outcome: string | null;
  slackChannel: string | null;
  slackTs: string | null;
  dmChannel: string | null;
  dmTs: string | null;
  idempotencyKey: string | null;
  bodyHash: string;
  /** Approve with edits (CONTRACT §9): the params approvals now count on; null unless edited. */
  approvedParams: string | null;
  approvedArgsHash: string | null;
  /** Slack user id of the last editor. */
  editedBy: string | null;
  /** The request this one revises (same agent), and on the revised one the latest revision. */
  revises: string | null;
  revisedBy: string | null;
  /** Set when the channel message is a reply in a thread (a revision posted under the one it revises). */
  slackThreadTs: string | null;
  /** Compact JWS (CONTRACT §6), written in the transaction that approves; null in every other state. */
  approvalToken: string | null;
}

/** A request as it is inserted: every field given (null where there is nothing). */
export type NewRequestRecord = RequestRecord;

export type Vote = "approve" | "reject";

export interface DecisionRecord {
  id: number;
  requestId: string;
  approverId: string;
  approverName: string | null;
  decision: Vote;
  comment: string | null;
  at: number;
  /** The args hash the vote was cast on; after an edit only votes on the edited version count. */
  argsHash: string | null;
}

/** One hash-chained audit event (src/audit/chain.ts). */
export interface AuditRecord {
  id: number;
  requestId: string | null;
  at: number;
  event: string;
  actor: string | null;
  /** RFC 8785 canonical JSON (or null). */
  detail: string | null;
  prevHash: string | null;
  hash: string | null;
}

/** One queued Slack side effect, written with the state change that causes it. */
export interface OutboxRecord {
  id: number;
  requestId: string;
  kind: string;
  payload: string;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

/** An outbox item as the worker reads it: with its request's channel. */
export type OutboxItem = OutboxRecord & { channel: string | null };

/** One Standard Webhooks delivery of `request.decided`; id is the stable webhook-id. */
export interface CallbackRecord {
  id: string;
  requestId: string;
  agent: string;
  url: string;
  body: string;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  failedAt: number | null;
}

export type NewCallback = Omit<
  CallbackRecord,
  "attempts" | "lastStatus" | "lastError" | "deliveredAt" | "failedAt"
>;

/** An Ed25519 key that signs approval tokens; exactly one has retiredAt null (the active key). */
export interface SigningKeyRecord {
  /** RFC 7638 JWK thumbprint. */
  kid: string;
  /** The public key, base64url (the JWK's `x`). */
  x: string;
  /** PKCS#8 PEM; null for a key supplied through COUNTERSIGN_SIGNING_KEY. */
  privateKey: string | null;
  createdAt: number;
  retiredAt: number | null;
  /** Until when the JWKS still lists a retired key. */
  publishUntil: number | null;
}

/** Per-channel pause after a Slack 429, shared by every worker and replica. */
export interface ChannelPauseRecord {
  channel: string;
  until: number;
  pacedUntil: number;
}

/** The last tick a periodic job was claimed for. */
export interface JobTickRecord {
  name: string;
  tick: number;
}

/**
 * An approval token that can no longer be used, by jti: `consumed` by a
 * gateway or `superseded` by a re-issued token (first caller wins).
 */
export type TokenUseRecord = {
  jti: string;
  kind: "consumed" | "superseded";
  /** The request, when known (always for `superseded`). */
  requestId: string | null;
  /** The agent that consumed the token, or whose token was re-issued. */
  agent: string;
  at: number;
};

/** A pending request's move to a final state. */
export type FinalUpdate = FinalState & {
  id: string;
  decidedAt: number;
  /** Set exactly when the new status is approved. */
  approvalToken: string | null;
};

/**
 * Compile-time equality of two row types, in both directions. The schemas use
 * it against the records above: `satisfies` a map of `true`s.
 */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
