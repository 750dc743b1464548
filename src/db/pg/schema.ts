import { sql } from "drizzle-orm";
import { bigint, index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import type { Resolution, Status } from "../../approvals/types.ts";
import type * as sqlite from "../schema.ts";

/**
 * The PostgreSQL mirror of src/db/schema.ts, column for column, with the same
 * table, column and index names (partial indexes too). Times are bigint
 * milliseconds read as JS numbers (exact up to 2^53, far beyond any date);
 * JSON columns stay text, as in SQLite, so rows read back identically.
 */
const ms = (name: string) => bigint(name, { mode: "number" });

export const requests = pgTable(
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
    ttlMs: ms("ttl_ms").notNull(),
    createdAt: ms("created_at").notNull(),
    expiresAt: ms("expires_at").notNull(),
    remindAt: ms("remind_at"),
    escalateAt: ms("escalate_at"),
    escalatedAt: ms("escalated_at"),
    escalatedTo: text("escalated_to"),
    decidedAt: ms("decided_at"),
    outcome: text("outcome"),
    slackChannel: text("slack_channel"),
    slackTs: text("slack_ts"),
    dmChannel: text("dm_channel"),
    dmTs: text("dm_ts"),
    idempotencyKey: text("idempotency_key"),
    bodyHash: text("body_hash").notNull(),
    approvedParams: text("approved_params"),
    approvedArgsHash: text("approved_args_hash"),
    editedBy: text("edited_by"),
    revises: text("revises"),
    revisedBy: text("revised_by"),
    slackThreadTs: text("slack_thread_ts"),
    approvalToken: text("approval_token"),
  },
  (t) => [
    uniqueIndex("requests_agent_idempotency_key")
      .on(t.agent, t.idempotencyKey)
      .where(sql`idempotency_key IS NOT NULL`),
    index("requests_pending_expires").on(t.expiresAt).where(sql`status = 'pending'`),
    index("requests_pending_escalate")
      .on(t.escalateAt)
      .where(sql`status = 'pending' AND escalate_at IS NOT NULL`),
    index("requests_pending_remind").on(t.remindAt).where(sql`status = 'pending' AND remind_at IS NOT NULL`),
    index("requests_agent_action_created").on(t.agent, t.action, t.createdAt),
    index("requests_approved_without_token")
      .on(t.id)
      .where(sql`status = 'approved' AND approval_token IS NULL`),
    index("requests_agent_created").on(t.agent, t.createdAt, t.id),
    index("requests_agent_pending_created").on(t.agent, t.createdAt, t.id).where(sql`status = 'pending'`),
  ],
);

export const decisions = pgTable(
  "decisions",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    requestId: text("request_id")
      .notNull()
      .references(() => requests.id),
    approverId: text("approver_id").notNull(),
    approverName: text("approver_name"),
    decision: text("decision").$type<"approve" | "reject">().notNull(),
    comment: text("comment"),
    at: ms("at").notNull(),
    argsHash: text("args_hash"),
  },
  (t) => [uniqueIndex("decisions_request_approver").on(t.requestId, t.approverId)],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    requestId: text("request_id"),
    at: ms("at").notNull(),
    event: text("event").notNull(),
    actor: text("actor"),
    detail: text("detail"),
    prevHash: text("prev_hash"),
    hash: text("hash"),
  },
  (t) => [index("audit_log_request").on(t.requestId, t.id)],
);

export const slackOutbox = pgTable(
  "slack_outbox",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    requestId: text("request_id").notNull(),
    kind: text("kind").notNull(),
    payload: text("payload").notNull(),
    createdAt: ms("created_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ms("next_attempt_at").notNull(),
    lastError: text("last_error"),
  },
  (t) => [index("slack_outbox_request").on(t.requestId, t.id)],
);

export const callbacks = pgTable(
  "callbacks",
  {
    id: text("id").primaryKey(),
    requestId: text("request_id").notNull(),
    agent: text("agent").notNull(),
    url: text("url").notNull(),
    body: text("body").notNull(),
    createdAt: ms("created_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ms("next_attempt_at"),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    deliveredAt: ms("delivered_at"),
    failedAt: ms("failed_at"),
  },
  (t) => [
    index("callbacks_due").on(t.nextAttemptAt).where(sql`delivered_at IS NULL AND failed_at IS NULL`),
    index("callbacks_request").on(t.requestId),
  ],
);

export const signingKeys = pgTable(
  "signing_keys",
  {
    kid: text("kid").primaryKey(),
    x: text("x").notNull(),
    privateKey: text("private_key"),
    createdAt: ms("created_at").notNull(),
    retiredAt: ms("retired_at"),
    publishUntil: ms("publish_until"),
  },
  (t) => [
    uniqueIndex("signing_keys_one_active").on(sql`(${t.retiredAt} IS NULL)`).where(sql`retired_at IS NULL`),
  ],
);

export const channelPauses = pgTable("channel_pauses", {
  channel: text("channel").primaryKey(),
  until: ms("until").notNull(),
  pacedUntil: ms("paced_until").notNull(),
});

export const jobTicks = pgTable("job_ticks", {
  name: text("name").primaryKey(),
  tick: ms("tick").notNull(),
});

export const tokenUses = pgTable("token_uses", {
  jti: text("jti").primaryKey(),
  kind: text("kind").$type<"consumed" | "superseded">().notNull(),
  requestId: text("request_id"),
  agent: text("agent").notNull(),
  at: ms("at").notNull(),
});

/**
 * Compile-time proof that rows read here are the rows the Store interface
 * promises (the SQLite schema's types), in both directions, so a column added
 * to one schema and not the other fails the typecheck.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mirrors = {
  requests: Same<typeof requests.$inferSelect, sqlite.RequestRow>;
  newRequests: Same<Required<typeof requests.$inferInsert>, Required<sqlite.NewRequestRow>>;
  decisions: Same<typeof decisions.$inferSelect, sqlite.DecisionRow>;
  auditLog: Same<typeof auditLog.$inferSelect, sqlite.AuditRow>;
  slackOutbox: Same<typeof slackOutbox.$inferSelect, sqlite.OutboxRow>;
  callbacks: Same<typeof callbacks.$inferSelect, sqlite.CallbackRow>;
  signingKeys: Same<typeof signingKeys.$inferSelect, sqlite.SigningKeyRow>;
  channelPauses: Same<typeof channelPauses.$inferSelect, sqlite.ChannelPauseRow>;
  jobTicks: Same<typeof jobTicks.$inferSelect, sqlite.JobTickRow>;
  tokenUses: Same<typeof tokenUses.$inferSelect, sqlite.TokenUseRow>;
};
export const schemaMirrorsSqlite = {
  requests: true,
  newRequests: true,
  decisions: true,
  auditLog: true,
  slackOutbox: true,
  callbacks: true,
  signingKeys: true,
  channelPauses: true,
  jobTicks: true,
  tokenUses: true,
} as const satisfies Mirrors;
