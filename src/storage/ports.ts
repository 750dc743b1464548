import type { AuditEvent } from "../audit/events.ts";
import type { ChainRow } from "../audit/verify.ts";
import type {
  AuditRecord,
  CallbackRecord,
  DecisionRecord,
  FinalUpdate,
  NewCallback,
  NewRequestRecord,
  OutboxItem,
  RequestRecord,
  SigningKeyRecord,
  TokenUseRecord,
} from "../domain/records.ts";

/**
 * The storage ports: what the rest of countersign sees of the database, one
 * small interface per concern (requests and their decisions, the audit log,
 * the Slack outbox, the callback queue, the schedule, writes, signing keys,
 * the audit reader, the change bus). Two adapters implement them:
 * storage/sqlite/ (the embedded default) and storage/pg/; only storage/open.ts
 * picks one (test/architecture/imports.test.ts holds everyone else to that).
 *
 * Every method is async. Inside `tx` / `Writes.run` every call joins the
 * running transaction (the adapter tracks it with AsyncLocalStorage);
 * outside it each call is its own statement. Rows are src/domain/records.ts.
 */

export type { FinalUpdate, NewCallback, OutboxItem };

/** Requests and the votes on them. */
export interface RequestStore {
  insertRequest(row: Required<NewRequestRecord>): Promise<void>;
  /**
   * The request, or undefined. Inside a transaction on PostgreSQL the row is
   * locked (FOR UPDATE) until commit, so writers on one request are serialized
   * across replicas exactly as SQLite's single writer serializes them.
   */
  getRequest(id: string): Promise<RequestRecord | undefined>;
  /**
   * The request and its votes (oldest first) in one call, or undefined: what
   * every view of a request needs. Locks the row inside a PostgreSQL
   * transaction exactly as getRequest does.
   */
  loadRequest(id: string): Promise<{ row: RequestRecord; decisions: DecisionRecord[] } | undefined>;
  findByIdempotencyKey(agent: string, key: string): Promise<RequestRecord | undefined>;
  decisionsFor(id: string): Promise<DecisionRecord[]>;
  insertDecision(row: Omit<DecisionRecord, "id">): Promise<void>;
  changeVote(
    id: number,
    decision: DecisionRecord["decision"],
    comment: string | null,
    at: number,
    argsHash: string,
  ): Promise<void>;
  /** Records an approve-with-edits on a pending request; false when it was no longer pending. */
  setEdit(
    id: string,
    approvedParams: string | null,
    approvedArgsHash: string | null,
    editedBy: string,
  ): Promise<boolean>;
  setRevisedBy(id: string, revisedBy: string): Promise<void>;
  setThreadTs(id: string, threadTs: string): Promise<void>;
  /** Moves a pending request to a final status; false when it was no longer pending. */
  finalize(u: FinalUpdate): Promise<boolean>;
  markEscalated(id: string, at: number, to: string): Promise<boolean>;
  skipEscalation(id: string): Promise<boolean>;
  clearReminder(id: string): Promise<boolean>;
  approvedWithoutToken(limit: number): Promise<RequestRecord[]>;
  setApprovalToken(id: string, token: string): Promise<boolean>;
  setOutcome(id: string, outcome: string): Promise<boolean>;
  /** Swaps the token of an approved request with no outcome for a re-issued one; false when it changed meanwhile. */
  replaceApprovalToken(id: string, previous: string, token: string): Promise<boolean>;
  setChannelMessage(id: string, channel: string, ts: string): Promise<void>;
  setDmMessage(id: string, channel: string, ts: string): Promise<void>;
  listForAgent(q: {
    agent: string;
    status: string | null;
    beforeAt: number;
    beforeId: string;
    limit: number;
  }): Promise<RequestRecord[]>;
  historyFor(q: {
    agent: string;
    action: string;
    since: number;
    until: number;
    id: string;
  }): Promise<{ status: RequestRecord["status"]; n: number }[]>;
  /** Creation time of the oldest pending request (an index seek per agent), or null when none is pending. */
  oldestPendingCreatedAt(): Promise<number | null>;
  /** Pending requests (a count over the pending-only partial index). */
  countPending(): Promise<number>;
  countByStatus(): Promise<
    { status: RequestRecord["status"]; resolution: RequestRecord["resolution"]; n: number }[]
  >;
  /** Pending requests of some roles or escalated to a user, oldest first (Home tab). */
  pendingFor(roles: string[], userId: string, limit: number): Promise<RequestRecord[]>;
}

/** Approval tokens that can no longer be used (consumed, or superseded by a re-issue). */
export interface TokenUses {
  /** Marks a token unusable: true for exactly one caller per jti, across replicas (the primary key decides). */
  useToken(row: TokenUseRecord): Promise<boolean>;
  tokenUse(jti: string): Promise<TokenUseRecord | undefined>;
}

/** The hash-chained audit log, as the verbs append to and read it. */
export interface AuditLog {
  /** Appends a chained, redacted audit event (inside the caller's transaction when there is one). */
  audit(
    requestId: string | null,
    at: number,
    event: AuditEvent,
    actor: string | null,
    detail?: unknown,
  ): Promise<void>;
  auditFor(id: string): Promise<AuditRecord[]>;
}

/** The durable queue of Slack side effects, and the per-channel pauses that pace it. */
export interface OutboxQueue {
  enqueueSlack(requestId: string, kind: string, payload: unknown, at: number): Promise<void>;
  /** Due heads of the per-request queues (id > afterId), with the request's channel; read only. */
  dueSlack(now: number, limit: number, afterId?: number): Promise<OutboxItem[]>;
  /**
   * Claims one due item for this worker: true for exactly one caller across
   * replicas. Its next_attempt_at moves to now + leaseMs, so no other replica
   * takes it until the lease ends; a replica that dies leaves it to be taken
   * again then (PostgreSQL: a conditional UPDATE over FOR UPDATE SKIP LOCKED).
   * SQLite has one worker process (storage/sqlite/lock.ts), whose in-flight set is the lease.
   * Either way the item's `attempts` counts this claim, so a later claim knows
   * an earlier one may have reached Slack.
   */
  leaseSlack(id: number, now: number, leaseMs: number): Promise<boolean>;
  deleteSlack(id: number): Promise<void>;
  /**
   * Extends this worker's claim while its Slack calls are still running (a
   * live replica never loses an item to another because Slack was slow).
   */
  renewSlack(id: number, until: number): Promise<void>;
  /** Reschedules a claimed item (ends its lease); attempts is not counted again. */
  retrySlack(id: number, nextAttemptAt: number, error: string): Promise<void>;
  outboxDepth(): Promise<number>;
  /** Shared per-channel pause after a 429 (so every replica honours it). */
  pauseChannel(channel: string, until: number, pacedUntil: number): Promise<void>;
  /** Channels paused or paced at `now`: channel → { until, pacedUntil }. */
  channelPauses(now: number): Promise<Map<string, { until: number; pacedUntil: number }>>;
}

/** The durable queue of signed callbacks to agents. */
export interface CallbackQueue {
  insertCallback(row: NewCallback): Promise<void>;
  /** Due undelivered callbacks, skipping agents in `busy`; read only. */
  dueCallbacks(now: number, limit: number, busy?: readonly string[]): Promise<CallbackRecord[]>;
  /** Claims one due callback (same lease rule as leaseSlack). */
  leaseCallback(id: string, now: number, leaseMs: number): Promise<boolean>;
  /** Extends the claim on a callback whose attempt is still running. */
  renewCallback(id: string, until: number): Promise<void>;
  callbackAttempt(a: {
    id: string;
    nextAttemptAt: number | null;
    status: number | null;
    error: string | null;
    deliveredAt: number | null;
    failedAt: number | null;
  }): Promise<void>;
  callbacksFor(id: string): Promise<CallbackRecord[]>;
  pendingCallbacks(): Promise<number>;
}

/** What falls due (the sweep), and one run per tick across replicas. */
export interface Schedule {
  dueExpiries(now: number, limit: number): Promise<string[]>;
  dueEscalations(now: number, limit: number): Promise<string[]>;
  dueReminders(now: number, limit: number): Promise<string[]>;

  /**
   * Claims the named periodic job for `tick` (e.g. the sweep's minute): true
   * for exactly one caller per (name, tick) across every replica.
   */
  claimTick(name: string, tick: number): Promise<boolean>;
}

/** Every store port on one connection (what an adapter builds and the verbs are handed). */
export interface Store extends RequestStore, TokenUses, AuditLog, OutboxQueue, CallbackQueue, Schedule {
  /**
   * Runs fn in one write transaction (SQLite: IMMEDIATE; PostgreSQL: its own
   * connection). A throw rolls everything back. Nested calls become savepoints.
   * The adapters' own primitive (and tests'): countersign itself writes through
   * Writes.run, the one path that waits and retries the same way on both
   * databases (test/architecture/imports.test.ts holds src/ to that).
   */
  tx<T>(fn: () => Promise<T>): Promise<T>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
}

/** How long writes may try before they are refused (both adapters take the same). */
export interface WritesOptions {
  /** How long a write keeps trying in total before it is refused (default 2 s). */
  budgetMs?: number;
  /** First pause between attempts; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** Writes that answer someone (an agent, a click): bounded waits, refused with StoreUnavailable. */
export interface WriteOptions {
  /** Overrides the default wait budget for this write (workers may wait longer than a request). */
  budgetMs?: number;
}

export interface Writes {
  /**
   * Runs fn in a write transaction (SQLite: the next group commit, in its own
   * savepoint). Resolves after COMMIT; rejects with fn's error, or with
   * StoreUnavailable when nothing could be stored within the budget.
   */
  run<T>(fn: () => Promise<T>, options?: WriteOptions): Promise<T>;
  /** Null when the last commit went through; otherwise why writes fail, and since when (performance.now()). */
  readonly failing: { at: number; error: Error } | null;
  /** Whether a write could be taken this instant. */
  canWrite(): Promise<boolean>;
  /** Rejects what is still queued (shutdown). */
  close(): void;
}

export interface KeyStore {
  tx<T>(fn: () => Promise<T>): Promise<T>;
  active(): Promise<SigningKeyRecord | undefined>;
  byKid(kid: string): Promise<SigningKeyRecord | undefined>;
  all(): Promise<SigningKeyRecord[]>;
  insert(row: SigningKeyRecord): Promise<void>;
  retire(kid: string, at: number, publishUntil: number): Promise<void>;
  reactivate(kid: string): Promise<void>;
}

export interface AuditQuery {
  /** Events from the first one at or after this time (ms), and every later one. */
  sinceMs?: number | null;
  requestId?: string | null;
}

export interface AuditReader {
  /** Audit rows in seq order, streamed (bounded memory). */
  iterate(query?: AuditQuery): AsyncIterable<ChainRow>;
  /** The last event: what an operator anchors outside the database. */
  head(): Promise<{ seq: number; hash: string | null } | null>;
}

/**
 * Cross-replica "request changed" notices (PostgreSQL: LISTEN/NOTIFY). The
 * SQLite backend has one process, so its bus is local only.
 */
export interface ChangeBus {
  publish(requestId: string): void;
  /** Called for every id published by any replica (including this one); on reconnect with null: re-check everything. */
  subscribe(listener: (requestId: string | null) => void): void;
}

export interface Backend {
  dialect: "sqlite" | "postgres";
  store: Store;
  writes: Writes;
  keys: KeyStore;
  audit: AuditReader;
  bus: ChangeBus;
  close(): Promise<void>;
}
