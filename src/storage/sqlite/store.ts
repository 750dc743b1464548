import { and, asc, desc, eq, getTableColumns, inArray, isNotNull, isNull, lte, or, sql } from "drizzle-orm";
import { OLDEST_PENDING_SQL, oldestFrom, PENDING_COUNT_SQL } from "../oldest-pending.ts";
import type { FinalUpdate, NewCallback, Store } from "../ports.ts";
import { createAuditAppender } from "./audit.ts";
import type { OpenDatabase } from "./open.ts";

export type { FinalUpdate, NewCallback };

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

/**
 * Every SQL statement countersign runs, prepared once. Verbs compose these
 * inside `tx` so a state change and its side-effect rows commit together.
 */
export function createStore(
  database: OpenDatabase,
  options: { /** Redacts audit details (the config's `redact` keys). */ redact?: <T>(value: T) => T } = {},
) {
  const { db, sqlite } = database;
  const appendAudit = createAuditAppender(database, options.redact);
  // A literal, not a bound parameter: SQLite can only use the partial indexes
  // (WHERE status = 'pending') when the value is known at prepare time.
  const pending = sql`${requests.status} = 'pending'`;
  const s = {
    insertRequest: db
      .insert(requests)
      .values(placeholdersFor(getTableColumns(requests)))
      .prepare(),
    getRequest: db
      .select()
      .from(requests)
      .where(eq(requests.id, p("id")))
      .prepare(),
    byIdempotencyKey: db
      .select()
      .from(requests)
      .where(and(eq(requests.agent, p("agent")), eq(requests.idempotencyKey, p("key"))))
      .prepare(),
    decisionsFor: db
      .select()
      .from(decisions)
      .where(eq(decisions.requestId, p("id")))
      .orderBy(asc(decisions.id))
      .prepare(),
    insertDecision: db.insert(decisions).values(placeholdersFor(decisionColumns)).prepare(),
    changeVote: db
      .update(decisions)
      .set({
        decision: sql`${p("decision")}`,
        comment: sql`${p("comment")}`,
        at: sql`${p("at")}`,
        argsHash: sql`${p("argsHash")}`,
      })
      .where(eq(decisions.id, p("id")))
      .prepare(),
    finalize: db
      .update(requests)
      .set({
        status: sql`${p("status")}`,
        resolution: sql`${p("resolution")}`,
        decidedAt: sql`${p("decidedAt")}`,
        approvalToken: sql`${p("approvalToken")}`,
      })
      .where(and(eq(requests.id, p("id")), pending))
      .prepare(),
    setEdit: db
      .update(requests)
      .set({
        approvedParams: sql`${p("approvedParams")}`,
        approvedArgsHash: sql`${p("approvedArgsHash")}`,
        editedBy: sql`${p("editedBy")}`,
      })
      .where(and(eq(requests.id, p("id")), pending))
      .prepare(),
    setRevisedBy: db
      .update(requests)
      .set({ revisedBy: sql`${p("revisedBy")}` })
      .where(eq(requests.id, p("id")))
      .prepare(),
    setThreadTs: db
      .update(requests)
      .set({ slackThreadTs: sql`${p("threadTs")}` })
      .where(eq(requests.id, p("id")))
      .prepare(),
    markEscalated: db
      .update(requests)
      .set({ escalatedAt: sql`${p("at")}`, escalatedTo: sql`${p("to")}`, escalateAt: null })
      .where(and(eq(requests.id, p("id")), pending, isNotNull(requests.escalateAt)))
      .prepare(),
    skipEscalation: db
      .update(requests)
      .set({ escalateAt: null })
      .where(and(eq(requests.id, p("id")), pending, isNotNull(requests.escalateAt)))
      .prepare(),
    clearReminder: db
      .update(requests)
      .set({ remindAt: null })
      .where(and(eq(requests.id, p("id")), pending, isNotNull(requests.remindAt)))
      .prepare(),
    approvedWithoutToken: db
      .select()
      .from(requests)
      .where(sql`${requests.status} = 'approved' AND ${requests.approvalToken} IS NULL`)
      .limit(p("limit"))
      .prepare(),
    setApprovalToken: db
      .update(requests)
      .set({ approvalToken: sql`${p("token")}` })
      .where(
        sql`${requests.id} = ${p("id")} AND ${requests.status} = 'approved' AND ${requests.approvalToken} IS NULL`,
      )
      .prepare(),
    setOutcome: db
      .update(requests)
      .set({ outcome: sql`${p("outcome")}` })
      .where(and(eq(requests.id, p("id")), eq(requests.status, "approved"), isNull(requests.outcome)))
      .prepare(),
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
      .prepare(),
    useToken: db
      .insert(tokenUses)
      .values(placeholdersFor(getTableColumns(tokenUses)))
      .onConflictDoNothing()
      .prepare(),
    tokenUse: db
      .select()
      .from(tokenUses)
      .where(eq(tokenUses.jti, p("jti")))
      .prepare(),
    setChannelMessage: db
      .update(requests)
      .set({ slackChannel: sql`${p("channel")}`, slackTs: sql`${p("ts")}` })
      .where(eq(requests.id, p("id")))
      .prepare(),
    setDmMessage: db
      .update(requests)
      .set({ dmChannel: sql`${p("channel")}`, dmTs: sql`${p("ts")}` })
      .where(eq(requests.id, p("id")))
      .prepare(),
    enqueueSlack: db.insert(slackOutbox).values(placeholdersFor(outboxColumns)).prepare(),
    // The head of each request's queue only: later items wait for earlier ones.
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
      .prepare(),
    deleteSlack: db
      .delete(slackOutbox)
      .where(eq(slackOutbox.id, p("id")))
      .prepare(),
    // attempts counts claims (leaseSlack): a retry only reschedules.
    leaseSlack: db
      .update(slackOutbox)
      .set({ attempts: sql`${slackOutbox.attempts} + 1` })
      .where(eq(slackOutbox.id, p("id")))
      .prepare(),
    retrySlack: db
      .update(slackOutbox)
      .set({
        nextAttemptAt: sql`${p("nextAttemptAt")}`,
        lastError: sql`${p("error")}`,
      })
      .where(eq(slackOutbox.id, p("id")))
      .prepare(),
    outboxDepth: db.select({ n: sql<number>`count(*)` }).from(slackOutbox).prepare(),
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
          until: sql`max(${channelPauses.until}, excluded."until")`,
          pacedUntil: sql`max(${channelPauses.pacedUntil}, excluded.paced_until)`,
        },
      })
      .prepare(),
    channelPauses: db
      .select()
      .from(channelPauses)
      .where(or(sql`${channelPauses.until} > ${p("now")}`, sql`${channelPauses.pacedUntil} > ${p("now")}`))
      .prepare(),
    claimTick: db
      .insert(jobTicks)
      .values({ name: sql`${p("name")}`, tick: sql`${p("tick")}` })
      .onConflictDoUpdate({
        target: jobTicks.name,
        set: { tick: sql`excluded.tick` },
        setWhere: sql`${jobTicks.tick} < excluded.tick`,
      })
      .prepare(),
    insertCallback: db
      .insert(callbacks)
      .values(placeholdersFor({ ...getTableColumns(callbacks) }))
      .prepare(),
    dueCallbacks: db
      .select()
      .from(callbacks)
      .where(
        and(
          isNull(callbacks.deliveredAt),
          isNull(callbacks.failedAt),
          lte(callbacks.nextAttemptAt, p("now")),
          // Agents already at their concurrency limit (a JSON array of ids).
          sql`${callbacks.agent} NOT IN (SELECT value FROM json_each(${p("busy")}))`,
        ),
      )
      .orderBy(asc(callbacks.nextAttemptAt))
      .limit(p("limit"))
      .prepare(),
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
      .prepare(),
    callbacksFor: db
      .select()
      .from(callbacks)
      .where(eq(callbacks.requestId, p("id")))
      .prepare(),
    pendingCallbacks: db
      .select({ n: sql<number>`count(*)` })
      .from(callbacks)
      .where(and(isNull(callbacks.deliveredAt), isNull(callbacks.failedAt)))
      .prepare(),
    dueExpiries: db
      .select({ id: requests.id })
      .from(requests)
      .where(and(pending, lte(requests.expiresAt, p("now"))))
      .orderBy(asc(requests.expiresAt))
      .limit(p("limit"))
      .prepare(),
    dueEscalations: db
      .select({ id: requests.id })
      .from(requests)
      .where(and(pending, isNotNull(requests.escalateAt), lte(requests.escalateAt, p("now"))))
      .orderBy(asc(requests.escalateAt))
      .limit(p("limit"))
      .prepare(),
    dueReminders: db
      .select({ id: requests.id })
      .from(requests)
      .where(and(pending, isNotNull(requests.remindAt), lte(requests.remindAt, p("now"))))
      .orderBy(asc(requests.remindAt))
      .limit(p("limit"))
      .prepare(),
    oldestPending: sqlite.prepare(OLDEST_PENDING_SQL),
    countPending: sqlite.prepare(PENDING_COUNT_SQL),
    countByStatus: db
      .select({ status: requests.status, resolution: requests.resolution, n: sql<number>`count(*)` })
      .from(requests)
      .groupBy(requests.status, requests.resolution)
      .prepare(),
    // Row-value comparison lets SQLite seek the (agent, [status,] created_at, id) index to the cursor.
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
      .prepare(),
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
      .prepare(),
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
      .prepare(),
    // A range of requests_agent_action_created: cost follows the agent's recent requests, not the table.
    historyFor: historyStatement(db),
    auditFor: db
      .select()
      .from(auditLog)
      .where(eq(auditLog.requestId, p("id")))
      .orderBy(asc(auditLog.id))
      .prepare(),
  };

  const { txs } = database;
  const read = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const write = txs.write;

  const store: Store = {
    tx: txs.tx,
    ping: () => read(() => sqlite.prepare("SELECT 1 AS ok").get() !== undefined),
    insertRequest: (row) => write(() => void s.insertRequest.run(row)),
    getRequest: (id) => read(() => s.getRequest.get({ id })),
    findByIdempotencyKey: (agent, key) => read(() => s.byIdempotencyKey.get({ agent, key })),
    decisionsFor: (id) => read(() => s.decisionsFor.all({ id })),
    loadRequest: (id) =>
      read(() => {
        const row = s.getRequest.get({ id });
        return row && { row, decisions: s.decisionsFor.all({ id }) };
      }),
    insertDecision: (row) => write(() => void s.insertDecision.run(row)),
    changeVote: (id, decision, comment, at, argsHash) =>
      write(() => void s.changeVote.run({ id, decision, comment, at, argsHash })),
    setEdit: (id, approvedParams, approvedArgsHash, editedBy) =>
      write(() => s.setEdit.run({ id, approvedParams, approvedArgsHash, editedBy }).changes === 1),
    setRevisedBy: (id, revisedBy) => write(() => void s.setRevisedBy.run({ id, revisedBy })),
    setThreadTs: (id, threadTs) => write(() => void s.setThreadTs.run({ id, threadTs })),
    finalize: (u) => write(() => s.finalize.run(u).changes === 1),
    markEscalated: (id, at, to) => write(() => s.markEscalated.run({ id, at, to }).changes === 1),
    skipEscalation: (id) => write(() => s.skipEscalation.run({ id }).changes === 1),
    clearReminder: (id) => write(() => s.clearReminder.run({ id }).changes === 1),
    approvedWithoutToken: (limit) => read(() => s.approvedWithoutToken.all({ limit })),
    setApprovalToken: (id, token) => write(() => s.setApprovalToken.run({ id, token }).changes === 1),
    setOutcome: (id, outcome) => write(() => s.setOutcome.run({ id, outcome }).changes === 1),
    replaceApprovalToken: (id, previous, token) =>
      write(() => s.replaceApprovalToken.run({ id, previous, token }).changes === 1),
    useToken: (row) => write(() => s.useToken.run(row).changes === 1),
    tokenUse: (jti) => read(() => s.tokenUse.get({ jti })),
    setChannelMessage: (id, channel, ts) => write(() => void s.setChannelMessage.run({ id, channel, ts })),
    setDmMessage: (id, channel, ts) => write(() => void s.setDmMessage.run({ id, channel, ts })),
    audit: (requestId, at, event, actor, detail) =>
      write(() => appendAudit(requestId, at, event, actor, detail)),
    auditFor: (id) => read(() => s.auditFor.all({ id })),
    listForAgent: (q) =>
      read(() => {
        const { status, ...rest } = q;
        if (status === null) return s.listForAgent.all(rest);
        if (status === "pending") return s.listPendingForAgent.all(rest);
        return s.listForAgentByStatus.all({ ...rest, status });
      }),
    historyFor: (q) => read(() => s.historyFor.all(q)),
    enqueueSlack: (requestId, kind, payload, at) =>
      write(
        () =>
          void s.enqueueSlack.run({
            requestId,
            kind,
            payload: JSON.stringify(payload),
            createdAt: at,
            attempts: 0,
            nextAttemptAt: at,
            lastError: null,
          }),
      ),
    dueSlack: (now, limit, afterId = 0) => read(() => s.dueSlack.all({ now, limit, afterId })),
    // One worker process: its in-flight set is the lease; the count tells a retry from a first try.
    leaseSlack: (id) => write(() => s.leaseSlack.run({ id }).changes === 1),
    renewSlack: async () => undefined,
    deleteSlack: (id) => write(() => void s.deleteSlack.run({ id })),
    retrySlack: (id, nextAttemptAt, error) =>
      write(() => void s.retrySlack.run({ id, nextAttemptAt, error })),
    outboxDepth: () => read(() => s.outboxDepth.get()?.n ?? 0),
    pauseChannel: (channel, until, pacedUntil) =>
      write(() => void s.pauseChannel.run({ channel, until, pacedUntil })),
    channelPauses: (now) =>
      read(
        () =>
          new Map(
            s.channelPauses
              .all({ now })
              .map((r) => [r.channel, { until: r.until, pacedUntil: r.pacedUntil }]),
          ),
      ),
    insertCallback: (row) =>
      write(
        () =>
          void s.insertCallback.run({
            ...row,
            attempts: 0,
            lastStatus: null,
            lastError: null,
            deliveredAt: null,
            failedAt: null,
          }),
      ),
    dueCallbacks: (now, limit, busy = []) =>
      read(() => s.dueCallbacks.all({ now, limit, busy: JSON.stringify(busy) })),
    leaseCallback: async () => true,
    renewCallback: async () => undefined,
    callbackAttempt: (a) => write(() => void s.callbackAttempt.run(a)),
    callbacksFor: (id) => read(() => s.callbacksFor.all({ id })),
    pendingCallbacks: () => read(() => s.pendingCallbacks.get()?.n ?? 0),
    dueExpiries: (now, limit) => read(() => s.dueExpiries.all({ now, limit }).map((r) => r.id)),
    dueEscalations: (now, limit) => read(() => s.dueEscalations.all({ now, limit }).map((r) => r.id)),
    dueReminders: (now, limit) => read(() => s.dueReminders.all({ now, limit }).map((r) => r.id)),
    countByStatus: () => read(() => s.countByStatus.all()),
    countPending: () => read(() => Number((s.countPending.get() as { n?: unknown } | undefined)?.n ?? 0)),
    oldestPendingCreatedAt: () =>
      read(() => oldestFrom(s.oldestPending.get() as { oldest?: unknown } | undefined)),
    pendingFor: (roles, userId, limit) =>
      read(() =>
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
          .limit(limit)
          .all(),
      ),
    claimTick: (name, tick) => write(() => s.claimTick.run({ name, tick }).changes === 1),
  };
  return store;
}

/**
 * The evidence pack's history query (one agent's recent requests for one action):
 * exported so that a test can show its query plan reads the index.
 */
export function historyStatement(db: OpenDatabase["db"]) {
  return db
    .select({ status: requests.status, n: sql<number>`count(*)` })
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
    .prepare();
}
