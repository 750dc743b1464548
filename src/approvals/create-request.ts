import { randomUUID } from "node:crypto";
import type { Agent } from "../config/file.ts";
import { argsHash, canonicalJson, sha256Hex } from "../domain/canonical-json.ts";
import type { RequestRecord } from "../domain/records.ts";
import { finalState } from "../domain/transitions.ts";
import type { RequestResource } from "../domain/vocabulary.ts";
import { findPolicy } from "../policy/match.ts";
import { sampledForHumans } from "../policy/sample.ts";
import type { Deps } from "./deps.ts";
import { queueCallbackInTx, queueSlack } from "./finalize.ts";
import type { CreateRequestBody } from "./request-body.ts";
import { toResource } from "./resource.ts";

export type CreateResult =
  | { kind: "created"; resource: RequestResource }
  | { kind: "replayed"; resource: RequestResource }
  | { kind: "idempotency_conflict" }
  | { kind: "no_matching_policy" }
  | { kind: "callback_not_allowed"; message: string }
  | { kind: "invalid_revises"; message: string };

// randomUUID draws from a cached entropy pool: cheaper per call than randomBytes.
export const newRequestId = (): string => `req_${randomUUID().replaceAll("-", "")}`;

/** Hosts an agent may aim callbacks at; `*.example.com` covers subdomains. */
export function callbackHostAllowed(agent: Agent, url: string): boolean {
  if (agent.callback_hosts === null) return true;
  const host = new URL(url).hostname.toLowerCase();
  return agent.callback_hosts.some((pattern) =>
    pattern.startsWith("*.") ? host.endsWith(pattern.slice(1)) : host === pattern,
  );
}

/**
 * Routes a validated request by policy and stores it with its first Slack post
 * queued, all in one transaction. Policy decisions resolve at once.
 */
export async function createRequest(
  deps: Deps,
  agent: Agent,
  body: CreateRequestBody,
  /** The Idempotency-Key and the body as sent (before parsing), whose fingerprint a replay must match. */
  idempotency: { key: string; sent: unknown } | null,
): Promise<CreateResult> {
  const { store, config, clock } = deps;
  const idempotencyKey = idempotency?.key ?? null;
  // Only a request that may be replayed needs its body fingerprint.
  const bodyHash = idempotency === null ? "" : argsHash(idempotency.sent);
  const replay = async (): Promise<CreateResult | null> => {
    if (idempotencyKey === null) return null;
    const earlier = await store.findByIdempotencyKey(agent.id, idempotencyKey);
    if (!earlier) return null;
    if (earlier.bodyHash !== bodyHash) return { kind: "idempotency_conflict" };
    return { kind: "replayed", resource: toResource(earlier, await store.decisionsFor(earlier.id)) };
  };
  const earlier = await replay();
  if (earlier !== null) return earlier;
  if (body.callback_url !== undefined) {
    if (agent.callback_secret === null) {
      return {
        kind: "callback_not_allowed",
        message: `agent "${agent.id}" has no callback_secret configured`,
      };
    }
    if (!callbackHostAllowed(agent, body.callback_url)) {
      return {
        kind: "callback_not_allowed",
        message: `host of callback_url is not in callback_hosts of agent "${agent.id}"`,
      };
    }
  }
  if (body.revises !== undefined) {
    const revised = await store.getRequest(body.revises);
    // Another agent's request is answered exactly like a missing one: agents never learn of each other's ids.
    if (!revised || revised.agent !== agent.id) {
      return { kind: "invalid_revises", message: `revises: no request ${body.revises} of this agent` };
    }
    if (revised.status === "pending") {
      return {
        kind: "invalid_revises",
        message: `revises: request ${body.revises} is still pending; cancel it or wait for its decision first`,
      };
    }
  }
  const policy = findPolicy(config.policies, { ...body, agent: agent.id });
  if (policy === null) return { kind: "no_matching_policy" };

  const now = clock.now();
  const id = newRequestId();
  const ttlMs = body.ttl === undefined ? policy.ttlMs : Math.min(body.ttl, policy.ttlMs);
  // A policy rejection is final at once: a future expires_at would read as time left to decide.
  const expiresAt = policy.decision === "reject" ? now : now + ttlMs;
  const matchedRoute = policy.decision === null && policy.route !== null;
  // Sampled out: approved by policy; the draw is seeded by the Idempotency-Key when there is one.
  const sampledOut =
    matchedRoute &&
    !sampledForHumans(
      policy.sample,
      policy.name,
      idempotencyKey === null ? id : `key:${agent.id}:${idempotencyKey}`,
    );
  const routed = matchedRoute && !sampledOut;
  const role = routed && policy.route !== null ? (config.roles[policy.route] ?? null) : null;
  const escalateAt =
    routed && policy.escalateAfterMs !== null && now + policy.escalateAfterMs < expiresAt
      ? now + policy.escalateAfterMs
      : null;
  const remindAt = routed ? now + Math.floor(((escalateAt ?? expiresAt) - now) / 2) : null;
  const params = canonicalJson(body.params);
  const hash = sha256Hex(params);
  const decided =
    policy.decision === "approve" || sampledOut
      ? finalState("approved_by_policy")
      : policy.decision === "reject"
        ? finalState("rejected_by_policy")
        : null;
  const status = decided?.status ?? "pending";
  const resolution = decided?.resolution ?? null;

  const row: RequestRecord = {
    id,
    agent: agent.id,
    status,
    resolution,
    action: body.action,
    summary: body.summary,
    target: body.target ?? null,
    params,
    reason: body.reason ?? null,
    risk: body.risk === undefined ? null : JSON.stringify(body.risk),
    evidence: JSON.stringify(body.evidence ?? []),
    runId: body.run_id ?? null,
    onBehalfOf: body.on_behalf_of ?? null,
    callbackUrl: body.callback_url ?? null,
    argsHash: hash,
    policy: policy.name,
    role: routed ? policy.route : null,
    approvalsRequired: policy.approvals,
    ttlMs,
    createdAt: now,
    expiresAt,
    remindAt,
    escalateAt,
    escalatedAt: null,
    escalatedTo: null,
    decidedAt: status === "pending" ? null : now,
    outcome: null,
    slackChannel: role?.channel ?? null,
    slackTs: null,
    dmChannel: null,
    dmTs: null,
    idempotencyKey,
    bodyHash,
    approvedParams: null,
    approvedArgsHash: null,
    editedBy: null,
    revises: body.revises ?? null,
    revisedBy: null,
    slackThreadTs: null,
    approvalToken: null,
  };
  // Group commit: stored with the other creates of this event-loop turn; answered after the COMMIT.
  const stored = await deps.writes.run(async (): Promise<CreateResult | null> => {
    // Checked again inside the transaction: the same key may be in this very batch.
    const again = await replay();
    if (again !== null) return again;
    // Signed in the transaction that stores the approval, so the two commit together.
    const issued = status === "approved" ? await deps.tokens.issueInTx(row, [], now) : null;
    row.approvalToken = issued?.token ?? null;
    await store.insertRequest(row);
    await store.audit(id, now, "created", `agent:${agent.id}`, {
      action: body.action,
      args_hash: hash,
      policy: policy.name,
    });
    if (body.revises !== undefined) {
      await store.setRevisedBy(body.revises, id);
      // The revised message gains its link; for a routed revision once that is posted (see send-effect).
      const revised = await store.getRequest(body.revises);
      if (revised?.slackTs != null) await queueSlack(deps, body.revises, { kind: "update" }, now);
    }
    if (sampledOut)
      await store.audit(id, now, "sampled_out", null, { policy: policy.name, sample: policy.sample });
    if (routed) {
      await store.audit(id, now, "routed", null, { policy: policy.name, role: policy.route });
      await queueSlack(deps, id, { kind: "post" }, now);
    } else {
      await store.audit(id, now, status === "approved" ? "approved" : "rejected", `policy:${policy.name}`, {
        resolution,
        ...(issued === null ? {} : { token: issued.audit }),
      });
      if (body.callback_url !== undefined) await queueCallbackInTx(deps, id, now);
    }
    return null;
  });
  if (stored !== null) return stored;

  deps.metrics.created(policy.name, status, resolution, routed);
  return { kind: "created", resource: toResource(row, []) };
}
