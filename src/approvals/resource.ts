import { z } from "zod";
import { iso, isoOrNull } from "../clock.ts";
import { versionOfVote } from "../domain/approved-version.ts";
import type { DecisionRecord, RequestRecord } from "../domain/records.ts";
import { evidenceItemSchema, outcomeSchema, type RequestResource, riskSchema } from "../domain/vocabulary.ts";
import type { RequestStore } from "../storage/ports.ts";

const paramsSchema = z.record(z.string(), z.unknown());
const evidenceListSchema = z.array(evidenceItemSchema);

/** JSON read back from the database is validated like any other input. */
function parseJson<T>(schema: z.ZodType<T>, text: string, column: string): T {
  const result = schema.safeParse(JSON.parse(text));
  if (!result.success) throw new Error(`stored ${column} does not match its schema: ${result.error.message}`);
  return result.data;
}

export function toResource(row: RequestRecord, decisionRows: DecisionRecord[]): RequestResource {
  return {
    id: row.id,
    status: row.status,
    action: row.action,
    summary: row.summary,
    target: row.target,
    params: parseJson(paramsSchema, row.params, "params"),
    reason: row.reason,
    risk: row.risk === null ? null : parseJson(riskSchema, row.risk, "risk"),
    evidence: parseJson(evidenceListSchema, row.evidence, "evidence"),
    run_id: row.runId,
    on_behalf_of: row.onBehalfOf,
    callback_url: row.callbackUrl,
    args_hash: row.argsHash,
    approved_params:
      row.approvedParams === null ? null : parseJson(paramsSchema, row.approvedParams, "approved_params"),
    approved_args_hash: row.approvedArgsHash,
    edited_by: row.editedBy,
    revises: row.revises,
    revised_by: row.revisedBy,
    agent: row.agent,
    policy: row.policy,
    role: row.role,
    approvals_required: row.approvalsRequired,
    decisions: decisionRows.map((d) => ({
      decision: d.decision,
      approver: { slack_user_id: d.approverId, name: d.approverName },
      comment: d.comment,
      at: iso(d.at),
      args_hash: versionOfVote(d, row),
    })),
    created_at: iso(row.createdAt),
    expires_at: iso(row.expiresAt),
    escalated_at: isoOrNull(row.escalatedAt),
    decided_at: isoOrNull(row.decidedAt),
    resolution: row.resolution,
    outcome: row.outcome === null ? null : parseJson(outcomeSchema, row.outcome, "outcome"),
    slack: row.slackChannel === null ? null : { channel: row.slackChannel, ts: row.slackTs },
    approval_token: row.status === "approved" ? row.approvalToken : null,
  };
}

/** A request as the API shows it, with its stored row (one loadRequest), or undefined. */
export async function loadResource(
  deps: { store: Pick<RequestStore, "loadRequest"> },
  id: string,
): Promise<{ row: RequestRecord; resource: RequestResource } | undefined> {
  const loaded = await deps.store.loadRequest(id);
  return loaded && { row: loaded.row, resource: toResource(loaded.row, loaded.decisions) };
}
