import type { KnownBlock } from "@slack/types";
import type { RoleApprovers } from "../../approvals/authority.ts";
import type { RefusalReason } from "../../domain/transitions.ts";
import type { RequestResource } from "../../domain/vocabulary.ts";
import {
  escapeTruncate,
  formatDuration,
  joinAnd,
  slackDate,
  usergroupMention,
  userMention,
} from "../mrkdwn.ts";
import type { RenderedMessage } from "./request-message.ts";

function textMessage(blockId: string, text: string): RenderedMessage {
  const blocks: KnownBlock[] = [{ type: "section", block_id: blockId, text: { type: "mrkdwn", text } }];
  return { text, blocks };
}

/** Thread reply under the channel message when the request goes to the manager. */
export function renderEscalationNotice(req: RequestResource, managerId: string): RenderedMessage {
  const since =
    req.escalated_at === null ? Number.NaN : Date.parse(req.escalated_at) - Date.parse(req.created_at);
  const after = Number.isNaN(since) ? "in time" : `after ${formatDuration(since)}`;
  return textMessage(
    "escalation",
    `:rotating_light: Escalated to ${userMention(managerId)} — no decision ${after}. They can now approve or reject it; it expires ${slackDate(req.expires_at)}.`,
  );
}

/** Thread reply pinging each approver (and the user group) once. */
export function renderReminder(
  req: RequestResource,
  approverIds: readonly string[],
  usergroup: string | null,
): RenderedMessage {
  const pings = [...new Set(approverIds)].map(userMention);
  if (usergroup !== null && usergroup !== "") pings.push(usergroupMention(usergroup));
  const who = pings.length ? `${pings.join(" ")} ` : "";
  return textMessage(
    "reminder",
    `⏳ ${who}Reminder: this request is still waiting for a decision; it expires ${slackDate(req.expires_at)}.`,
  );
}

/** Ephemeral answer to a click that is not allowed; nothing changes. */
export function renderRefusal(reason: RefusalReason, req: RequestResource, role?: RoleApprovers): string {
  switch (reason) {
    case "not_an_approver": {
      const roleName = req.role === null ? "" : ` for role *${escapeTruncate(req.role, 100)}*`;
      if (!role) return `You are not an approver${roleName}, so you cannot decide this request.`;
      const who = [...new Set(role.approvers)].map(userMention);
      if (role.usergroup) who.push(`members of ${usergroupMention(role.usergroup)}`);
      if (req.escalated_at !== null && role.escalateTo)
        who.push(`${userMention(role.escalateTo)} (escalation)`);
      const list = who.length ? `; approvers: ${joinAnd(who)}` : "";
      return `You are not an approver${roleName}${list}.`;
    }
    case "membership_unknown": {
      const group = role?.usergroup ? ` whether you are in ${usergroupMention(role.usergroup)}` : "";
      return `Slack could not confirm${group} just now, so countersign cannot tell whether you may decide this request. Nothing was recorded — please try again in a moment.`;
    }
    case "wrong_message":
      return "This button does not belong to the request of the message it is on, so nothing was recorded. Use the buttons on that request's own message.";
    case "message_not_recorded":
      return "countersign has not finished recording this message yet, so nothing was recorded. Please click again in a moment.";
    case "requester":
      return "You asked for this action (it runs on your behalf), so you cannot approve it; another approver has to decide.";
    case "already_voted": {
      const n = req.approvals_required;
      return n > 1
        ? `You already approved this request; it needs ${n} distinct approvers.`
        : "You already approved this request.";
    }
  }
}
