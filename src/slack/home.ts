import type { App } from "@slack/bolt";
import type { KnownBlock } from "@slack/types";
import { inRole, type MembershipCheck } from "../approvals/authority.ts";
import type { Deps } from "../approvals/deps.ts";
import type { RequestRecord } from "../domain/records.ts";
import { escapeMrkdwn, formatDuration, messageUrl, slackDate, truncate } from "./mrkdwn.ts";

const LIST_LIMIT = 20;

/** A failed lookup shows the user less (fail closed) and is logged, never swallowed. */
async function memberOrLog(
  deps: Deps,
  usergroup: string,
  userId: string,
  isMember: MembershipCheck,
): Promise<boolean> {
  try {
    return await isMember(usergroup, userId);
  } catch (error) {
    deps.log.warn(
      { err: error, usergroup, user: userId },
      "usergroup lookup failed; listing only the roles this user is named in",
    );
    return false;
  }
}

/** Roles whose requests this user may decide: listed approver or user group member. */
async function rolesOf(deps: Deps, userId: string, isMember: MembershipCheck): Promise<string[]> {
  const names: string[] = [];
  for (const [name, role] of Object.entries(deps.config.roles)) {
    if (await inRole(role, userId, (group, user) => memberOrLog(deps, group, user, isMember)))
      names.push(name);
  }
  return names;
}

/** Pending requests a user may decide across their roles, oldest first (also those escalated to them). */
export async function pendingFor(
  deps: Deps,
  userId: string,
  isMember: MembershipCheck,
): Promise<RequestRecord[]> {
  return deps.store.pendingFor(await rolesOf(deps, userId, isMember), userId, LIST_LIMIT);
}

function line(row: RequestRecord, now?: number): string {
  // The channel mention stands beside the link, never inside its label: Slack's
  // mrkdwn has no nested entities and would show `<#C…>` and a stray `>`.
  const where =
    row.slackChannel !== null && row.slackTs !== null
      ? ` · in <#${row.slackChannel}> · <${messageUrl(row.slackChannel, row.slackTs, row.slackThreadTs)}|open message>`
      : "";
  const left =
    now === undefined
      ? ""
      : row.expiresAt > now
        ? ` (${formatDuration(row.expiresAt - now)} left)`
        : " (due to expire)";
  return `*${escapeMrkdwn(truncate(row.action, 150))}* — ${escapeMrkdwn(truncate(row.summary, 300))}\n\`${row.id}\` · ${escapeMrkdwn(row.agent)} · expires ${slackDate(new Date(row.expiresAt).toISOString())}${left}${where}`;
}

export function renderPendingList(
  rows: RequestRecord[],
  now?: number,
): { text: string; blocks: KnownBlock[] } {
  if (rows.length === 0) {
    const text = "Nothing is waiting for your decision.";
    return {
      text,
      blocks: [{ type: "section", text: { type: "mrkdwn", text: `:white_check_mark: ${text}` } }],
    };
  }
  const text = `${rows.length} request${rows.length === 1 ? "" : "s"} waiting for your decision`;
  return {
    text,
    blocks: [
      { type: "header", text: { type: "plain_text", text: "Waiting for your decision" } },
      ...rows.map((row): KnownBlock => ({ type: "section", text: { type: "mrkdwn", text: line(row, now) } })),
    ],
  };
}

/** The Home tab and /countersign: what is waiting for me, or one request by id. */
export function registerHome(app: App, deps: Deps, isMember: MembershipCheck): void {
  app.event("app_home_opened", async ({ event, client }) => {
    if (event.tab !== "home") return;
    const list = renderPendingList(await pendingFor(deps, event.user, isMember), deps.clock.now());
    await client.views.publish({ user_id: event.user, view: { type: "home", blocks: list.blocks } });
  });

  app.command("/countersign", async ({ command, ack }) => {
    const arg = command.text.trim();
    if (arg.startsWith("req_")) {
      const row = await deps.store.getRequest(arg);
      const role = row?.role ?? null;
      const allowed =
        row !== undefined &&
        (role === null ||
          (await rolesOf(deps, command.user_id, isMember)).includes(role) ||
          row.escalatedTo === command.user_id);
      if (!row || !allowed)
        return void (await ack({
          response_type: "ephemeral",
          text: `No request ${escapeMrkdwn(arg)} that you can see.`,
        }));
      const status = row.status === "pending" ? "pending" : `${row.status} (${row.resolution ?? ""})`;
      return void (await ack({ response_type: "ephemeral", text: `${line(row)}\nStatus: *${status}*` }));
    }
    if (arg !== "" && arg !== "pending") {
      return void (await ack({
        response_type: "ephemeral",
        text: "Usage: `/countersign` or `/countersign pending` lists what waits for you; `/countersign req_…` shows one request.",
      }));
    }
    const list = renderPendingList(await pendingFor(deps, command.user_id, isMember), deps.clock.now());
    await ack({ response_type: "ephemeral", text: list.text, blocks: list.blocks });
  });
}
