import type { DecisionView, RequestResource } from "../../src/domain/vocabulary.ts";
import type { RenderContext } from "../../src/slack/render/index.ts";
import { CONTRACT_EXAMPLE } from "../support/contract-example.ts";

const { ttl: _ttl, ...fields } = CONTRACT_EXAMPLE;

/** A pending request like the one in CONTRACT §3; override any field. */
export function makeRequest(overrides: Partial<RequestResource> = {}): RequestResource {
  return {
    id: "req_01JDX5",
    status: "pending",
    ...fields,
    evidence: [
      ...CONTRACT_EXAMPLE.evidence.slice(0, 2),
      { title: "Proposed reply", text: "Hi Dana, *sorry* about that", format: "markdown" },
    ],
    callback_url: null,
    args_hash: "sha256:9f2c7d6b1e0a",
    approved_params: null,
    approved_args_hash: null,
    edited_by: null,
    revises: null,
    revised_by: null,
    agent: "support-bot",
    policy: "medium-refunds",
    role: "support-lead",
    approvals_required: 1,
    decisions: [],
    created_at: "2026-11-22T10:00:00.000Z",
    expires_at: "2026-11-22T10:30:00.000Z",
    escalated_at: null,
    decided_at: null,
    resolution: null,
    outcome: null,
    slack: { channel: "C0SUPPORT", ts: "1700000000.000100" },
    approval_token: null,
    ...overrides,
  };
}

export function vote(
  approver: string,
  decision: "approve" | "reject" = "approve",
  comment: string | null = null,
  at = "2026-11-22T10:04:05.123Z",
  argsHash = "sha256:9f2c7d6b1e0a",
): DecisionView {
  return {
    decision,
    approver: { slack_user_id: approver, name: approver.toLowerCase() },
    comment,
    at,
    args_hash: argsHash,
  };
}

export function makeContext(overrides: Partial<RenderContext> = {}): RenderContext {
  return { redactKeys: [], needsConfirm: false, escalatedTo: null, ttlText: "30m", ...overrides };
}
