import type { NewRequestRecord, RequestRecord } from "../../src/domain/records.ts";
import { finalState } from "../../src/domain/transitions.ts";
import type { Store } from "../../src/storage/ports.ts";

/** Rows and steps the store tests share (the contract suite and the PostgreSQL-only cases). */
export function request(id: string, over: Partial<RequestRecord> = {}): Required<NewRequestRecord> {
  return {
    id,
    agent: "agent-1",
    status: "pending",
    resolution: null,
    action: "refund",
    summary: "Refund",
    target: null,
    params: "{}",
    reason: null,
    risk: null,
    evidence: "{}",
    runId: null,
    onBehalfOf: null,
    callbackUrl: null,
    argsHash: "h",
    policy: "p",
    role: "finance",
    approvalsRequired: 1,
    ttlMs: 60_000,
    createdAt: 1_000,
    expiresAt: 61_000,
    remindAt: null,
    escalateAt: null,
    escalatedAt: null,
    escalatedTo: null,
    decidedAt: null,
    outcome: null,
    slackChannel: "C1",
    slackTs: null,
    dmChannel: null,
    dmTs: null,
    idempotencyKey: null,
    bodyHash: "b",
    approvedParams: null,
    approvedArgsHash: null,
    editedBy: null,
    revises: null,
    revisedBy: null,
    slackThreadTs: null,
    approvalToken: null,
    ...over,
  };
}

export const approve = (id: string, at: number) => ({
  id,
  ...finalState("approved_by_humans"),
  decidedAt: at,
  approvalToken: "jws",
});

/** A worker's pass: the due items, each claimed (only what this caller won), as the outbox does it. */
export async function claimSlack(store: Store, now: number, leaseMs: number, limit: number, afterId = 0) {
  const mine = [];
  for (const item of await store.dueSlack(now, limit, afterId)) {
    if (await store.leaseSlack(item.id, now, leaseMs)) mine.push({ ...item, nextAttemptAt: now + leaseMs });
  }
  return mine;
}
