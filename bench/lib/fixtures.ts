import { randomBytes } from "node:crypto";
import type Database from "better-sqlite3";
import { argsHash, canonicalJson } from "../../src/domain/canonical-json.ts";
import { CONTRACT_EXAMPLE } from "../../test/support/contract-example.ts";

export const AGENT_TOKEN = "bench-agent-token-0123456789abcdef";
export const BOT_TOKEN = "xoxb-bench-token";
export const SIGNING_SECRET = "bench-signing-secret";
export const APPROVER = "U0LEAD1";
export const SUPPORT_CHANNEL = "C0SUPPORT";

/** The body every intake request sends: CONTRACT §3's example, routed to support-lead (no callback, no ttl). */
const { on_behalf_of: _onBehalfOf, callback_url: _callbackUrl, ttl: _ttl, ...routed } = CONTRACT_EXAMPLE;
export const REFUND = routed;

/** One agent, one role (support-lead in C0SUPPORT), one routed policy. */
export const SUPPORT_CONFIG = `
agents:
  - id: bench-bot
    token: ${AGENT_TOKEN}
roles:
  support-lead:
    channel: ${SUPPORT_CHANNEL}
    approvers: [${APPROVER}, U0LEAD2]
    escalate_to: U0MANAGER
policies:
  - name: medium-refunds
    match: { action: "refund.*", params.amount: { lte: 200 } }
    route: support-lead
    ttl: 30m
    escalate_after: 15m
`;

/**
 * The same agent and body as SUPPORT_CONFIG, decided by policy: every intake
 * stores an approved request and signs its approval token in the transaction.
 */
export const POLICY_APPROVE_CONFIG = `
agents:
  - id: bench-bot
    token: ${AGENT_TOKEN}
policies:
  - name: auto-refunds
    match: { action: "refund.*", params.amount: { lte: 200 } }
    decision: approve
`;

/** The same again decided `reject`: the same writes without a token, to isolate what signing costs. */
export const POLICY_REJECT_CONFIG = POLICY_APPROVE_CONFIG.replace("decision: approve", "decision: reject");

export const fanoutChannel = (i: number): string => `C0FAN${i}`;

/** `n` roles, each with its own channel, and a policy `fanout.<i>` → role i. */
export function fanoutConfig(n: number): string {
  const roles = Array.from(
    { length: n },
    (_, i) => `  role-${i}:\n    channel: ${fanoutChannel(i)}\n    approvers: [${APPROVER}]\n`,
  ).join("");
  const policies = Array.from(
    { length: n },
    (_, i) =>
      `  - name: fanout-${i}\n    match: { action: "fanout.${i}" }\n    route: role-${i}\n    ttl: 4h\n`,
  ).join("");
  return `agents:\n  - id: bench-bot\n    token: ${AGENT_TOKEN}\nroles:\n${roles}policies:\n${policies}`;
}

const COLUMNS = [
  "id",
  "agent",
  "status",
  "resolution",
  "action",
  "summary",
  "target",
  "params",
  "reason",
  "risk",
  "evidence",
  "run_id",
  "on_behalf_of",
  "callback_url",
  "args_hash",
  "policy",
  "role",
  "approvals_required",
  "ttl_ms",
  "created_at",
  "expires_at",
  "remind_at",
  "escalate_at",
  "escalated_at",
  "escalated_to",
  "decided_at",
  "outcome",
  "slack_channel",
  "slack_ts",
  "dm_channel",
  "dm_ts",
  "idempotency_key",
  "body_hash",
] as const;

export type SeedRow = Record<(typeof COLUMNS)[number], string | number | null>;

const PARAMS = canonicalJson(REFUND.params);
const HASH = argsHash(REFUND.params);
const RISK = JSON.stringify(REFUND.risk);
const EVIDENCE = JSON.stringify(REFUND.evidence);
const TTL_MS = 30 * 60_000;

export const seedId = (i: number): string => `req_seed${String(i).padStart(8, "0")}`;

/** A pending support-lead request created at `now`, as create-request would store it. */
export function pendingRow(i: number, now: number): SeedRow {
  return {
    id: seedId(i),
    agent: "bench-bot",
    status: "pending",
    resolution: null,
    action: REFUND.action,
    summary: REFUND.summary,
    target: REFUND.target,
    params: PARAMS,
    reason: REFUND.reason,
    risk: RISK,
    evidence: EVIDENCE,
    run_id: REFUND.run_id,
    on_behalf_of: null,
    callback_url: null,
    args_hash: HASH,
    policy: "medium-refunds",
    role: "support-lead",
    approvals_required: 1,
    ttl_ms: TTL_MS,
    created_at: now,
    expires_at: now + TTL_MS,
    remind_at: now + TTL_MS / 4,
    escalate_at: now + TTL_MS / 2,
    escalated_at: null,
    escalated_to: null,
    decided_at: null,
    outcome: null,
    slack_channel: SUPPORT_CHANNEL,
    slack_ts: `1700000000.${String(i).padStart(6, "0")}`,
    dm_channel: null,
    dm_ts: null,
    idempotency_key: null,
    body_hash: `sha256:${randomBytes(32).toString("hex")}`,
  };
}

/**
 * Inserts rows with one raw prepared statement in one transaction (much faster
 * than going through the API), into an already migrated database.
 */
export function seedRows(sqlite: Database.Database, rows: Iterable<SeedRow>): number {
  const insert = sqlite.prepare(
    `INSERT INTO requests (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map((c) => `@${c}`).join(", ")})`,
  );
  let n = 0;
  sqlite.transaction(() => {
    for (const row of rows) {
      insert.run(row);
      n += 1;
    }
  })();
  return n;
}

export function* range<T>(count: number, make: (i: number) => T): Generator<T> {
  for (let i = 0; i < count; i++) yield make(i);
}
