import {
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  gt,
  inArray,
  isNotNull,
  isNull,
  lte,
  or,
  sql,
} from "drizzle-orm";
import type {
  CallbackRecord,
  DecisionRecord,
  NewRequestRecord,
  RequestRecord,
} from "../../domain/records.ts";
import { OLDEST_PENDING_SQL, oldestFrom, PENDING_COUNT_SQL } from "../oldest-pending.ts";
import type { FinalUpdate, NewCallback, OutboxItem, Store } from "../ports.ts";
import { createPgAuditAppender } from "./audit.ts";
import {
  auditLog,
  callbacks,
  channelPauses,
  decisions,
  jobTicks,
  requests,
  slackOutbox,
  tokenUses,
} from "./schema.ts";
import type { PgSession } from "./session.ts";

const p = sql.placeholder;

/** Placeholders for every column of a table, so an insert can be prepared once. */
function placeholdersFor<T extends Record<string, unknown>>(
  columns: T,
): { [K in keyof T]: ReturnType<typeof p> } {
  return Object.fromEntries(Object.keys(columns).map((k) => [k, p(k)])) as {
    [K in keyof T]: ReturnType<typeof p>;
  };
}

const { id: _decisionId, ...decisionColumns } = getTableColumns(decisions);
const { id: _outboxId, ...outboxColumns } = getTableColumns(slackOutbox);
const count = sql<number>`count(*)::int`;
const changed = (rows: unknown[]): boolean => rows.length === 1;

/**
 * The Store on PostgreSQL: the same statements as src/storage/sqlite/store.ts, prepared
 * once (server-side named statements, per connection). Inside `tx` every call
 * runs on the transaction's connection (see session.ts). Conditional updates
 * report a change through RETURNING.
 */
export function createPgStore(
  session: PgSession,
  options: { /** Redacts audit details (the config's `redact` keys). */ redact?: <T>(value: T) => T } = {},
): Store {
  const { db } = session;
  const appendAudit = createPgAuditAppender(session, options.redact);
  const pending = sql`${requests.status} = 'pending'`;
  const s = {
    insertRequest: db
      .insert(requests)
      .values(placeholdersFor(getTableColumns(requests)))
      .prepare("cs_insert_request"),
    getRequest: db
      .select()
      .from(requests)
      .where(eq(requests.id, p("id")))
      .prepare("cs_get_request"),
    // Inside a transaction: writers on one request queue here, across replicas, until commit.
    getRequestForUpdate: db
      .select()
      .from(requests)
      .where(eq(requests.id, p("id")))
      .for("update")
      .prepare("cs_get_request_for_update"),
    byIdempotencyKey: db
      .select()
      .from(requests)
      .where(
        and(
          eq(requests.agent, p("agent")),
          eq(requests.idempotencyKey, p("key")),
          isNotNull(requests.idempotencyKey),
        ),
      )
      .prepare("cs_by_idempotency_key"),
    decisionsFor: db
      .select()
      .from(decisions)
      .where(eq(decisions.requestId, p("id")))
      .orderBy(asc(decisions.id))
      .prepare("cs_decisions_for"),
    insertDecision: db
      .insert(decisions)
      .values(placeholdersFor(decisionColumns))
      .prepare("cs_insert_decision"),
    changeVote: db
      .update(decisions)
      .set({
        decision: sql`${p("decision")}`,
        comment: sql`${p("comment")}`,
        at: sql`${p("at")}`,
        argsHash: sql`${p("argsHash")}`,
      })
      .where(eq(decisions.id, p("id")))
      .prepare("cs_change_vote"),
    finalize: db
      .update(requests)
      .set({
        status: sql`${p("status")}`,
        resolution: sql`${p("resolution")}`,
        decidedAt: sql`${p("decidedAt")}`,
        approvalToken: sql`${p("approvalToken")}`,
      })
      .where(and(eq(requests.id, p("id")), pending))
      .returning({ id: requests.id })
      .prepare("cs_finalize"),
    setEdit: db
      .update(requests)
      .set({
        approvedParams: sql`${p("approvedParams")}`,
        approvedArgsHash: sql`${p("approvedArgsHash")}`,
        editedBy: sql`${p("editedBy")}`,
      })
      .where(and(eq(requests.id, p("id")), pending))
      .returning({ id: requests.id })
      .prepare("cs_set_edit"),
    setRevisedBy: db
      .update(requests)
      .set({ revisedBy: sql`${p("revisedBy")}` })
      .where(eq(requests.id, p("id")))
      .prepare("cs_set_revised_by"),
    setThreadTs: db
      .update(requests)
      .set({ slackThreadTs: sql`${p("threadTs")}` })
      .where(eq(requests.id, p("id")))
      .prepare("cs_set_thread_ts"),
    markEscalated: db
      .update(requests)
      .set({ escalatedAt: sql`${p("at")}`, escalatedTo: sql`${p("to")}`, escalateAt: null })
      .where(and(eq(requests.id, p("id")), pending, isNotNull(requests.escalateAt)))
      .returning({ id: requests.id })
      .prepare("cs_mark_escalated"),
    skipEscalation: db
      .update(requests)
      .set({ escalateAt: null })
      .where(and(eq(requests.id, p("id")), pending, isNotNull(requests.escalateAt)))
      .returning({ id: requests.id })
      .prepare("cs_skip_escalation"),
    clearReminder: db
      .update(requests)
      .set({ remindAt: null })
      .where(and(eq(requests.id, p("id")), pending, isNotNull(requests.remindAt)))
      .returning({ id: requests.id })
      .prepare("cs_clear_reminder"),
    approvedWithoutToken: db
      .select()
      .from(requests)
      .where(sql`${requests.status} = 'approved' AND ${requests.approvalToken} IS NULL`)
      .limit(p("limit"))
      .prepare("cs_approved_without_token"),
    setApprovalToken: db
      .update(requests)
      .set({ approvalToken: sql`${p("token")}` })
      .where(
        sql`${requests.id} = ${p("id")} AND ${requests.status} = 'approved' AND ${requests.approvalToken} IS NULL`,
      )
      .returning({ id: requests.id })
      .prepare("cs_set_approval_token"),
    setOutcome: db
      .update(requests)
      .set({ outcome: sql`${p("outcome")}` })
      .where(and(eq(requests.id, p("id")), eq(requests.status, "approved"), isNull(requests.outcome)))
      .returning({ id: requests.id })
      .prepare("cs_set_outcome"),
    replaceApprovalToken: db
      .update(requests)
      .set({ approvalToken: sql`${p("token")}` })
      .where(
        and(
          eq(requests.id, p("id")),
          eq(requests.status, "approved"),
          isNull(requests.outcome),
          eq(requests.approvalToken, p("previous")),
        ),
      )
      .returning({ id: requests.id })
      .prepare("cs_replace_approval_token"),
    useToken: db
      .insert(tokenUses)
      .values(placeholdersFor(getTableColumns(tokenUses)))
      .onConflictDoNothing()
      .returning({ jti: tokenUses.jti })
      .prepare("cs_use_token"),
    tokenUse: db
      .select()
      .from(tokenUses)
      .where(eq(tokenUses.jti, p("jti")))
      .prepare("cs_token_use"),
    setChannelMessage: db
      .update(requests)
      .set({ slackChannel: sql`${p("channel")}`, slackTs: sql`${p("ts")}` })
      .where(eq(requests.id, p("id")))
      .prepare("cs_set_channel_message"),
    setDmMessage: db
      .update(requests)
      .set({ dmChannel: sql`${p("channel")}`, dmTs: sql`${p("ts")}` })
      .where(eq(requests.id, p("id")))
      .prepare("cs_set_dm_message"),
    enqueueSlack: db.insert(slackOutbox).values(placeholdersFor(outboxColumns)).prepare("cs_enqueue_slack"),
    // Due heads of the per-request queues: later items wait for earlier ones.
    dueSlack: db
      .select({ ...getTableColumns(slackOutbox), channel: requests.slackChannel })
      .from(slackOutbox)
      .leftJoin(requests, eq(requests.id, slackOutbox.requestId))
      .where(
        and(
          lte(slackOutbox.nextAttemptAt, p("now")),
          sql`${slackOutbox.id} > ${p("afterId")}`,
          sql`NOT EXISTS (SELECT 1 FROM slack_outbox AS earlier
                WHERE earlier.request_id = ${slackOutbox.requestId} AND earlier.id < ${slackOutbox.id})`,
        ),
      )
      .orderBy(asc(slackOutbox.id))
      .limit(p("limit"))
      .prepare("cs_due_slack"),
    // The claim: only while still due, and a row another replica is claiming this
    // instant is skipped rather than waited for. attempts counts claims.
    leaseSlack: db
      .update(slackOutbox)
      .set({ nextAttemptAt: sql`${p("until")}`, attempts: sql`${slackOutbox.attempts} + 1` })
      .where(
        sql`${slackOutbox.id} = (SELECT id FROM slack_outbox WHERE id = ${p("id")} AND next_attempt_at <= ${p("now")} FOR UPDATE SKIP LOCKED)`,
      )
      .returning({ id: slackOutbox.id })
      .prepare("cs_lease_slack"),
    deleteSlack: db
      .delete(slackOutbox)
      .where(eq(slackOutbox.id, p("id")))
      .prepare("cs_delete_slack"),
    retrySlack: db
      .update(slackOutbox)
      .set({
        nextAttemptAt: sql`${p("nextAttemptAt")}`,
        lastError: sql`${p("error")}`,
      })
      .where(eq(slackOutbox.id, p("id")))
      .prepare("cs_retry_slack"),
    outboxDepth: db.select({ n: count }).from(slackOutbox).prepare("cs_outbox_depth"),
    pauseChannel: db
      .insert(channelPauses)
      .values({
        channel: sql`${p("channel")}`,
        until: sql`${p("until")}`,
        pacedUntil: sql`${p("pacedUntil")}`,
      })
      .onConflictDoUpdate({
        target: channelPauses.channel,
        set: {
          until: sql`greatest(${channelPauses.until}, excluded."until")`,
          pacedUntil: sql`greatest(${channelPauses.pacedUntil}, excluded.paced_until)`,
        },
      })
      .prepare("cs_pause_channel"),
    channelPauses: db
      .select()
      .from(channelPauses)
      .where(or(gt(channelPauses.until, p("now")), gt(channelPauses.pacedUntil, p("now"))))
      .prepare("cs_channel_pauses"),
    insertCallback: db
      .insert(callbacks)
      .values(placeholdersFor({ ...getTableColumns(callbacks) }))
      .prepare("cs_insert_callback"),
    dueCallbacks: db
      .select()
      .from(callbacks)
      .where(
        and(
          isNull(callbacks.deliveredAt),
          isNull(callbacks.failedAt),
          lte(callbacks.nextAttemptAt, p("now")),
          // Agents already at their concurrency limit.
          sql`${callbacks.agent} <> ALL(${p("busy")}::text[])`,
        ),
      )
      .orderBy(asc(callbacks.nextAttemptAt))
      .limit(p("limit"))
      .prepare("cs_due_callbacks"),
    renewSlack: db
      .update(slackOutbox)
      .set({ nextAttemptAt: sql`${p("until")}` })
      .where(and(eq(slackOutbox.id, p("id")), sql`${slackOutbox.nextAttemptAt} < ${p("until")}`))
      .prepare("cs_renew_slack"),
    renewCallback: db
      .update(callbacks)
      .set({ nextAttemptAt: sql`${p("until")}` })
      .where(
        and(
          eq(callbacks.id, p("id")),
          isNull(callbacks.deliveredAt),
          isNull(callbacks.failedAt),
          sql`${callbacks.nextAttemptAt} < ${p("until")}`,
        ),
      )
      .prepare("cs_renew_callback"),
    leaseCallback: db
      .update(callbacks)
      .set({ nextAttemptAt: sql`${p("until")}` })
      .where(
        sql`${callbacks.id} = (SELECT id FROM callbacks WHERE id = ${p("id")} AND next_attempt_at <= ${p("now")}
              AND delivered_at IS NULL AND failed_at IS NULL FOR UPDATE SKIP LOCKED)`,
      )
      .returning({ id: callbacks.id })
      .prepare("cs_lease_callback"),
    callbackAttempt: db
      .update(callbacks)
      .set({
        attempts: sql`${callbacks.attempts} + 1`,
        nextAttemptAt: sql`${p("nextAttemptAt")}`,
        lastStatus: sql`${p("status")}`,
        lastError: sql`${p("error")}`,
        deliveredAt: sql`${p("deliveredAt")}`,
        failedAt: sql`${p("failedAt")}`,
      })
      .where(eq(callbacks.id, p("id")))
      .prepare("cs_callback_attempt"),
    callbacksFor: db
      .select()
      .from(callbacks)
      .where(eq(callbacks.requestId, p("id")))
      .prepare("cs_callbacks_for"),
    pendingCallbacks: db
      .select({ n: count })
      .from(callbacks)
      .where(and(isNull(callbacks.deliveredAt), isNull(callbacks.failedAt)))
      .prepare("cs_pending_callbacks"),
    dueExpiries: db
      .select({ id: requests.id })
      .from(requests)
      .where(and(pending, lte(requests.expiresAt, p("now"))))
      .orderBy(asc(requests.expiresAt))
      .limit(p("limit"))
      .prepare("cs_due_expiries"),
    dueEscalations: db
      .select({ id: requests.id })
      .from(requests)
      .where(and(pending, isNotNull(requests.escalateAt), lte(requests.escalateAt, p("now"))))
      .orderBy(asc(requests.escalateAt))
      .limit(p("limit"))
      .prepare("cs_due_escalations"),
    dueReminders: db
      .select({ id: requests.id })
      .from(requests)
      .where(and(pending, isNotNull(requests.remindAt), lte(requests.remindAt, p("now"))))
      .orderBy(asc(requests.remindAt))
      .limit(p("limit"))
      .prepare("cs_due_reminders"),
    countByStatus: db
      .select({ status: requests.status, resolution: requests.resolution, n: count })
      .from(requests)
      .groupBy(requests.status, requests.resolution)
      .prepare("cs_count_by_status"),
    listForAgent: db
      .select()
      .from(requests)
      .where(
        and(
          eq(requests.agent, p("agent")),
          sql`(${requests.createdAt}, ${requests.id}) < (${p("beforeAt")}, ${p("beforeId")})`,
        ),
      )
      .orderBy(desc(requests.createdAt), desc(requests.id))
      .limit(p("limit"))
      .prepare("cs_list_for_agent"),
    listPendingForAgent: db
      .select()
      .from(requests)
      .where(
        and(
          eq(requests.agent, p("agent")),
          pending,
          sql`(${requests.createdAt}, ${requests.id}) < (${p("beforeAt")}, ${p("beforeId")})`,
        ),
      )
      .orderBy(desc(requests.createdAt), desc(requests.id))
      .limit(p("limit"))
      .prepare("cs_list_pending_for_agent"),
    listForAgentByStatus: db
      .select()
      .from(requests)
      .where(
        and(
          eq(requests.agent, p("agent")),
          eq(requests.status, sql`${p("status")}`),
          sql`(${requests.createdAt}, ${requests.id}) < (${p("beforeAt")}, ${p("beforeId")})`,
        ),
      )
      .orderBy(desc(requests.createdAt), desc(requests.id))
      .limit(p("limit"))
      .prepare("cs_list_for_agent_by_status"),
    historyFor: db
      .select({ status: requests.status, n: count })
      .from(requests)
      .where(
        and(
          eq(requests.agent, p("agent")),
          eq(requests.action, p("action")),
          sql`${requests.createdAt} >= ${p("since")}`,
          sql`${requests.createdAt} <= ${p("until")}`,
          sql`${requests.id} <> ${p("id")}`,
        ),
      )
      .groupBy(requests.status)
      .prepare("cs_history_for"),
    auditFor: db
      .select()
      .from(auditLog)
      .where(eq(auditLog.requestId, p("id")))
      .orderBy(asc(auditLog.id))
      .prepare("cs_audit_for"),
    // One conditional upsert: the row moves forward for exactly one caller per tick.
    claimTick: db
      .insert(jobTicks)
      .values({ name: sql`${p("name")}`, tick: sql`${p("tick")}` })
      .onConflictDoUpdate({
        target: jobTicks.name,
        set: { tick: sql`excluded.tick` },
        setWhere: sql`${jobTicks.tick} < excluded.tick`,
      })
      .returning({ name: jobTicks.name })
      .prepare("cs_claim_tick"),
  };

  return {
    tx: (fn) => session.tx(fn),
    async ping(): Promise<boolean> {
      try {
        await session.pool.query("SELECT 1");
        return true;
      } catch {
        return false;
      }
    },
    insertRequest: async (row: Required<NewRequestRecord>) => void (await s.insertRequest.execute(row)),
    getRequest: async (id: string): Promise<RequestRecord | undefined> =>
      (session.current() === undefined
        ? await s.getRequest.execute({ id })
        : await s.getRequestForUpdate.execute({ id }))[0],
    findByIdempotencyKey: async (agent: string, key: string) =>
      (await s.byIdempotencyKey.execute({ agent, key }))[0],
    decisionsFor: (id: string): Promise<DecisionRecord[]> => s.decisionsFor.execute({ id }),
    loadRequest: async (id: string) => {
      const row = (
        session.current() === undefined
          ? await s.getRequest.execute({ id })
          : await s.getRequestForUpdate.execute({ id })
      )[0];
      return row && { row, decisions: await s.decisionsFor.execute({ id }) };
    },
    insertDecision: async (row: Omit<DecisionRecord, "id">) => void (await s.insertDecision.execute(row)),
    changeVote: async (id, decision, comment, at, argsHash) =>
      void (await s.changeVote.execute({ id, decision, comment, at, argsHash })),
    setEdit: async (id, approvedParams, approvedArgsHash, editedBy) =>
      changed(await s.setEdit.execute({ id, approvedParams, approvedArgsHash, editedBy })),
    setRevisedBy: async (id, revisedBy) => void (await s.setRevisedBy.execute({ id, revisedBy })),
    setThreadTs: async (id, threadTs) => void (await s.setThreadTs.execute({ id, threadTs })),
    finalize: async (u: FinalUpdate) => changed(await s.finalize.execute(u)),
    markEscalated: async (id, at, to) => changed(await s.markEscalated.execute({ id, at, to })),
    skipEscalation: async (id) => changed(await s.skipEscalation.execute({ id })),
    clearReminder: async (id) => changed(await s.clearReminder.execute({ id })),
    approvedWithoutToken: (limit) => s.approvedWithoutToken.execute({ limit }),
    setApprovalToken: async (id, token) => changed(await s.setApprovalToken.execute({ id, token })),
    setOutcome: async (id, outcome) => changed(await s.setOutcome.execute({ id, outcome })),
    replaceApprovalToken: async (id, previous, token) =>
      changed(await s.replaceApprovalToken.execute({ id, previous, token })),
    useToken: async (row) => changed(await s.useToken.execute(row)),
    tokenUse: async (jti) => (await s.tokenUse.execute({ jti }))[0],
    setChannelMessage: async (id, channel, ts) =>
      void (await s.setChannelMessage.execute({ id, channel, ts })),
    setDmMessage: async (id, channel, ts) => void (await s.setDmMessage.execute({ id, channel, ts })),
    audit: appendAudit,
    auditFor: (id) => s.auditFor.execute({ id }),
    listForAgent: (q) => {
      const { status, ...rest } = q;
      if (status === null) return s.listForAgent.execute(rest);
      if (status === "pending") return s.listPendingForAgent.execute(rest);
      return s.listForAgentByStatus.execute({ ...rest, status });
    },
    historyFor: (q) => s.historyFor.execute(q),
    enqueueSlack: async (requestId, kind, payload, at) =>
      void (await s.enqueueSlack.execute({
        requestId,
        kind,
        payload: JSON.stringify(payload),
        createdAt: at,
        attempts: 0,
        nextAttemptAt: at,
        lastError: null,
      })),
    dueSlack: (now, limit, afterId = 0): Promise<OutboxItem[]> => s.dueSlack.execute({ now, limit, afterId }),
    leaseSlack: async (id, now, leaseMs) =>
      (await s.leaseSlack.execute({ id, now, until: now + leaseMs })).length === 1,
    deleteSlack: async (id) => void (await s.deleteSlack.execute({ id })),
    retrySlack: async (id, nextAttemptAt, error) =>
      void (await s.retrySlack.execute({ id, nextAttemptAt, error })),
    outboxDepth: async () => (await s.outboxDepth.execute())[0]?.n ?? 0,
    pauseChannel: async (channel, until, pacedUntil) =>
      void (await s.pauseChannel.execute({ channel, until, pacedUntil })),
    channelPauses: async (now) =>
      new Map(
        (await s.channelPauses.execute({ now })).map((r) => [
          r.channel,
          { until: r.until, pacedUntil: r.pacedUntil },
        ]),
      ),
    insertCallback: async (row: NewCallback) =>
      void (await s.insertCallback.execute({
        ...row,
        attempts: 0,
        lastStatus: null,
        lastError: null,
        deliveredAt: null,
        failedAt: null,
      })),
    dueCallbacks: (now, limit, busy = []): Promise<CallbackRecord[]> =>
      s.dueCallbacks.execute({ now, limit, busy: [...busy] }),
    renewSlack: async (id, until) => void (await s.renewSlack.execute({ id, until })),
    renewCallback: async (id, until) => void (await s.renewCallback.execute({ id, until })),
    leaseCallback: async (id, now, leaseMs) =>
      (await s.leaseCallback.execute({ id, now, until: now + leaseMs })).length === 1,
    callbackAttempt: async (a) => void (await s.callbackAttempt.execute(a)),
    callbacksFor: (id) => s.callbacksFor.execute({ id }),
    pendingCallbacks: async () => (await s.pendingCallbacks.execute())[0]?.n ?? 0,
    dueExpiries: async (now, limit) => (await s.dueExpiries.execute({ now, limit })).map((r) => r.id),
    dueEscalations: async (now, limit) => (await s.dueEscalations.execute({ now, limit })).map((r) => r.id),
    dueReminders: async (now, limit) => (await s.dueReminders.execute({ now, limit })).map((r) => r.id),
    countByStatus: () => s.countByStatus.execute(),
    countPending: async () =>
      Number(((await db.execute(sql.raw(PENDING_COUNT_SQL))).rows[0] as { n?: unknown } | undefined)?.n ?? 0),
    oldestPendingCreatedAt: async () =>
      oldestFrom((await db.execute(sql.raw(OLDEST_PENDING_SQL))).rows[0] as { oldest?: unknown } | undefined),
    pendingFor: (roles, userId, limit) =>
      db
        .select()
        .from(requests)
        .where(
          and(
            pending,
            roles.length > 0
              ? or(inArray(requests.role, roles), eq(requests.escalatedTo, userId))
              : eq(requests.escalatedTo, userId),
          ),
        )
        .orderBy(asc(requests.createdAt))
        .limit(limit),
    claimTick: async (name, tick) => changed(await s.claimTick.execute({ name, tick })),
  };
}
