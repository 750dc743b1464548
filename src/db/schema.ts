import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Resolution, Status } from "../approvals/types.ts";

/**
 * Times are integer milliseconds since the epoch; JSON columns hold text that
 * is parsed with zod when read back (see src/db/rows.ts).
 */
export const requests = sqliteTable(
  "requests",
  {
    id: text("id").primaryKey(),
    agent: text("agent").notNull(),
    status: text("status").$type<Status>().notNull(),
    resolution: text("resolution").$type<Resolution>(),
    action: text("action").notNull(),
    summary: text("summary").notNull(),
    target: text("target"),
    params: text("params").notNull(),
    reason: text("reason"),
    risk: text("risk"),
    evidence: text("evidence").notNull(),
    runId: text("run_id"),
    onBehalfOf: text("on_behalf_of"),
    callbackUrl: text("callback_url"),
    argsHash: text("args_hash").notNull(),
    policy: text("policy").notNull(),
    role: text("role"),
    approvalsRequired: integer("approvals_required").notNull(),
    ttlMs: integer("ttl_ms").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    /** Next reminder due; null once sent or when none is planned. */
    remindAt: integer("remind_at"),
    /** Escalation due; null once escalated or when the policy has none. */
    escalateAt: integer("escalate_at"),
    escalatedAt: integer("escalated_at"),
    escalatedTo: text("escalated_to"),
    decidedAt: integer("decided_at"),
    outcome: text("outcome"),
    slackChannel: text("slack_channel"),
    slackTs: text("slack_ts"),
    dmChannel: text("dm_channel"),
    dmTs: text("dm_ts"),
    idempotencyKey: text("idempotency_key"),
    bodyHash: text("body_hash").notNull(),
    /** Approve with edits (CONTRACT §9): the params approvals now count on; null unless edited. */
    approvedParams: text("approved_params"),
    approvedArgsHash: text("approved_args_hash"),
    /** Slack user id of the last editor. */
    editedBy: text("edited_by"),
    /** The request this one revises (same agent), and on the revised one the latest revision. */
    revises: text("revises"),
    revisedBy: text("revised_by"),
    /** Set when the channel message is a reply in a thread (a revision posted under the one it revises). */
    slackThreadTs: text("slack_thread_ts"),
    /** Compact JWS (CONTRACT §6), written in the transaction that approves; null in every other state. */
    approvalToken: text("approval_token"),
  },
  (t) => [
    // Partial: most requests carry no key, and each index costs every insert a page write.
    uniqueIndex("requests_agent_idempotency_key")
      .on(t.agent, t.idempotencyKey)
      .where(sql`idempotency_key IS NOT NULL`),
    // The sweep's three due queries each walk one of these partial indexes,
    // so their cost follows the number of due rows, not stored ones.
    index("requests_pending_expires").on(t.expiresAt).where(sql`status = 'pending'`),
    index("requests_pending_escalate")
      .on(t.escalateAt)
      .where(sql`status = 'pending' AND escalate_at IS NOT NULL`),
    index("requests_pending_remind").on(t.remindAt).where(sql`status = 'pending' AND remind_at IS NOT NULL`),
    // The evidence pack's "recent history of this agent for this action" reads a range of this index.
    index("requests_agent_action_created").on(t.agent, t.action, t.createdAt),
    // Approved before approval tokens existed: found at start-up to be given theirs. Stays empty after that.
    index("requests_approved_without_token")
      .on(t.id)
      .where(sql`status = 'approved' AND approval_token IS NULL`),
    // GET /v1/requests: one agent's requests newest first, paged by (created_at, id);
    // ?status=pending (what an agent mostly asks for) has its own partial index, so it
    // never walks the decided history. Other statuses filter the first index.
    index("requests_agent_created").on(t.agent, t.createdAt, t.id),
    index("requests_agent_pending_created").on(t.agent, t.createdAt, t.id).where(sql`status = 'pending'`),
  ],
);

export const decisions = sqliteTable(
  "decisions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    requestId: text("request_id")
      .notNull()
      .references(() => requests.id),
    approverId: text("approver_id").notNull(),
    approverName: text("approver_name"),
    decision: text("decision").$type<"approve" | "reject">().notNull(),
    comment: text("comment"),
    at: integer("at").notNull(),
    /** The args hash the vote was cast on; after an edit only votes on the edited version count. */
    argsHash: text("args_hash"),
  },
  (t) => [uniqueIndex("decisions_request_approver").on(t.requestId, t.approverId)],
);

/**
 * Append-only and hash-chained (src/audit/chain.ts): each row stores the previous
 * row's hash and the SHA-256 of its own canonical content plus that previous hash.
 * The hash columns are nullable only because rows from before the chain get their
 * hashes right after the migration (src/audit/backfill.ts); every new row has them.
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    requestId: text("request_id"),
    at: integer("at").notNull(),
    event: text("event").notNull(),
    actor: text("actor"),
    /** RFC 8785 canonical JSON (or null). */
    detail: text("detail"),
    prevHash: text("prev_hash"),
    hash: text("hash"),
  },
  (t) => [index("audit_log_request").on(t.requestId, t.id)],
);

/**
 * Durable queue of Slack side effects, written in the same transaction as the
 * state change that causes them and drained in id order per request.
 */
export const slackOutbox = sqliteTable(
  "slack_outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    requestId: text("request_id").notNull(),
    kind: text("kind").notNull(),
    payload: text("payload").notNull(),
    createdAt: integer("created_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastError: text("last_error"),
  },
  // The worker walks the rowid in order and checks each request's head through
  // this index; an index on next_attempt_at would only cost every insert.
  (t) => [index("slack_outbox_request").on(t.requestId, t.id)],
);

/** Standard Webhooks deliveries of `request.decided`; id is the stable webhook-id. */
export const callbacks = sqliteTable(
  "callbacks",
  {
    id: text("id").primaryKey(),
    requestId: text("request_id").notNull(),
    agent: text("agent").notNull(),
    url: text("url").notNull(),
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    deliveredAt: integer("delivered_at"),
    failedAt: integer("failed_at"),
  },
  (t) => [
    index("callbacks_due").on(t.nextAttemptAt).where(sql`delivered_at IS NULL AND failed_at IS NULL`),
    index("callbacks_request").on(t.requestId),
  ],
);

/**
 * Ed25519 keys that sign approval tokens, kept with the data so backups and
 * replicas carry them. Exactly one row has retired_at NULL: the active key.
 * private_key is null for a key supplied through COUNTERSIGN_SIGNING_KEY (never written here).
 */
export const signingKeys = sqliteTable(
  "signing_keys",
  {
    /** RFC 7638 JWK thumbprint. */
    kid: text("kid").primaryKey(),
    /** The public key, base64url (the JWK's `x`). */
    x: text("x").notNull(),
    /** PKCS#8 PEM. */
    privateKey: text("private_key"),
    createdAt: integer("created_at").notNull(),
    retiredAt: integer("retired_at"),
    /** Until when the JWKS still lists a retired key: retirement + the longest token_ttl then. */
    publishUntil: integer("publish_until"),
  },
  // At most one active key: the index is on a constant expression, so a second NULL collides.
  (t) => [
    uniqueIndex("signing_keys_one_active").on(sql`(${t.retiredAt} IS NULL)`).where(sql`retired_at IS NULL`),
  ],
);

/**
 * Per-channel pause after a Slack 429, shared by every worker (and replica):
 * until = no posts at all before it; paced_until = one post at a time before it.
 */
export const channelPauses = sqliteTable("channel_pauses", {
  channel: text("channel").primaryKey(),
  until: integer("until").notNull(),
  pacedUntil: integer("paced_until").notNull(),
});

/** The last tick each periodic job (the sweep) was claimed for: one run per tick across replicas. */
export const jobTicks = sqliteTable("job_ticks", {
  name: text("name").primaryKey(),
  tick: integer("tick").notNull(),
});

/**
 * Approval tokens that can no longer be used, by jti: `consumed` by a gateway
 * (POST /v1/tokens/consume) or `superseded` by a re-issued token. The primary
 * key decides "first caller wins", across replicas.
 */
export const tokenUses = sqliteTable("token_uses", {
  jti: text("jti").primaryKey(),
  kind: text("kind").$type<"consumed" | "superseded">().notNull(),
  /** The request, when known (always for `superseded`). */
  requestId: text("request_id"),
  /** The agent that consumed the token, or whose token was re-issued. */
  agent: text("agent").notNull(),
  at: integer("at").notNull(),
});

export type RequestRow = typeof requests.$inferSelect;
export type NewRequestRow = typeof requests.$inferInsert;
export type DecisionRow = typeof decisions.$inferSelect;
export type OutboxRow = typeof slackOutbox.$inferSelect;
export type CallbackRow = typeof callbacks.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
export type SigningKeyRow = typeof signingKeys.$inferSelect;
export type ChannelPauseRow = typeof channelPauses.$inferSelect;
export type JobTickRow = typeof jobTicks.$inferSelect;
export type TokenUseRow = typeof tokenUses.$inferSelect;
