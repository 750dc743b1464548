import type { DecisionView, RequestResource, Resolution } from "../../domain/vocabulary.ts";
import { escapeMrkdwn, escapeTruncate, joinAnd, slackDate, userMention } from "../mrkdwn.ts";

const COMMENT_MAX = 1200;
const DETAIL_MAX = 600;

/** Distinct approvers whose approval counts (on the edited version after an edit), in the order they voted. */
export function approvers(req: RequestResource): string[] {
  const version = req.approved_args_hash ?? req.args_hash;
  const ids: string[] = [];
  for (const d of req.decisions) {
    if (d.decision === "approve" && d.args_hash === version && !ids.includes(d.approver.slack_user_id))
      ids.push(d.approver.slack_user_id);
  }
  return ids;
}

function lastRejection(req: RequestResource): DecisionView | undefined {
  return req.decisions.filter((d) => d.decision === "reject").at(-1);
}

/** When the request was decided: `decided_at`, else the last vote. */
function decidedAt(req: RequestResource): string | null {
  return req.decided_at ?? req.decisions.at(-1)?.at ?? null;
}

function at(iso: string | null, sep = " · "): string {
  return iso === null ? "" : `${sep}${slackDate(iso)}`;
}

/** A final request's resolution; derived from the status if the resolution is missing. */
export function resolutionOf(req: RequestResource): Resolution | null {
  if (req.resolution !== null) return req.resolution;
  switch (req.status) {
    case "pending":
      return null;
    case "approved":
      return approvers(req).length > 0 ? "approved_by_humans" : "approved_by_policy";
    case "rejected":
      return lastRejection(req) ? "rejected_by_human" : "rejected_by_policy";
    // changes_requested is always stored with its resolution; it is never derived.
    case "expired":
      return "approval_timeout";
    case "cancelled":
      return "cancelled_by_agent";
  }
}

function quote(text: string): string {
  return escapeTruncate(text, COMMENT_MAX)
    .split("\n")
    .map((line) => `>${line}`)
    .join("\n");
}

/** The status section of a final request's message, or null while pending. */
export function statusText(req: RequestResource, ttlText: string): string | null {
  const resolution = resolutionOf(req);
  if (resolution === null) return null;
  const lines: string[] = [];
  switch (resolution) {
    case "approved_by_humans": {
      const ids = approvers(req).map(userMention);
      const edited = req.approved_args_hash === null ? "" : " with edits";
      lines.push(`✅ Approved${edited} by ${ids.length ? joinAnd(ids) : "an approver"}${at(decidedAt(req))}`);
      break;
    }
    case "approved_by_policy":
      lines.push(`✅ Approved by policy \`${escapeTruncate(req.policy, 100)}\`${at(req.decided_at)}`);
      break;
    case "rejected_by_human": {
      const rejection = lastRejection(req);
      const who = rejection ? userMention(rejection.approver.slack_user_id) : "an approver";
      lines.push(`❌ Rejected by ${who}${at(decidedAt(req))}`);
      if (rejection?.comment) lines.push(quote(rejection.comment));
      break;
    }
    case "changes_requested": {
      const rejection = lastRejection(req);
      const who = rejection ? userMention(rejection.approver.slack_user_id) : "an approver";
      lines.push(`↩️ Changes requested by ${who}${at(decidedAt(req))}`);
      if (rejection?.comment) lines.push(quote(rejection.comment));
      break;
    }
    case "rejected_by_policy":
      lines.push(`❌ Rejected by policy \`${escapeTruncate(req.policy, 100)}\`${at(req.decided_at)}`);
      break;
    case "approval_timeout":
      lines.push(`⏰ Expired — no decision within ${escapeTruncate(ttlText, 40)}`);
      break;
    case "cancelled_by_agent":
      lines.push(`🚫 Cancelled by the agent${at(req.decided_at)}`);
      break;
  }
  const outcome = req.outcome;
  if (outcome) {
    const detail = outcome.detail ? escapeTruncate(outcome.detail, DETAIL_MAX) : "";
    lines.push(
      outcome.status === "succeeded"
        ? `✅ Executed${detail ? ` — ${detail}` : ""}${at(outcome.at)}`
        : `⚠️ Failed${detail ? `: ${detail}` : ""}${at(outcome.at)}`,
    );
  }
  return lines.join("\n");
}

/** One word for the notification fallback: "Approved", "Rejected", … */
export function statusWord(req: RequestResource): string {
  switch (req.status) {
    case "pending":
      return "Approval needed";
    case "approved":
      return "Approved";
    case "rejected":
      return "Rejected";
    case "expired":
      return "Expired";
    case "cancelled":
      return "Cancelled";
  }
}

/** The ephemeral answer to a click on a request that is no longer pending. */
export function renderAlreadyFinal(req: RequestResource): string {
  const when = decidedAt(req);
  const on = (iso: string | null): string => (iso === null ? "" : ` (${slackDate(iso)})`);
  switch (resolutionOf(req)) {
    case null:
      return `This request is still waiting for a decision.`;
    case "approved_by_humans": {
      const ids = approvers(req).map(userMention);
      return `This request was already approved by ${ids.length ? joinAnd(ids) : "an approver"}${on(when)}.`;
    }
    case "approved_by_policy":
      return `This request was already approved by policy \`${escapeMrkdwn(req.policy)}\`${on(req.decided_at)}.`;
    case "rejected_by_human": {
      const r = lastRejection(req);
      return `This request was already rejected by ${r ? userMention(r.approver.slack_user_id) : "an approver"}${on(when)}.`;
    }
    case "changes_requested": {
      const r = lastRejection(req);
      return `Changes to this request were already requested by ${r ? userMention(r.approver.slack_user_id) : "an approver"}${on(when)}.`;
    }
    case "rejected_by_policy":
      return `This request was already rejected by policy \`${escapeMrkdwn(req.policy)}\`${on(req.decided_at)}.`;
    case "approval_timeout":
      return `This request expired${on(req.decided_at ?? req.expires_at)} without a decision.`;
    case "cancelled_by_agent":
      return `This request was cancelled by the agent${on(req.decided_at)}.`;
  }
}
