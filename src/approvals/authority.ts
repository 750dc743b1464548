import type { AppConfig, Role } from "../config/file.ts";
import type { RequestRecord } from "../domain/records.ts";
import type { RefusalReason } from "../domain/transitions.ts";

/** Resolves whether a Slack user is in a user group (cached by the Slack layer). */
export type MembershipCheck = (usergroup: string, userId: string) => Promise<boolean>;

/** Who may decide a request now: the role's users and user group, and the manager once escalated. */
export interface RoleApprovers {
  approvers: readonly string[];
  usergroup: string | null;
  escalateTo?: string | null;
}

/** The one answer to "who may approve this request now", for messages, reminders and refusals. */
export function approversNow(config: Pick<AppConfig, "roles">, row: RequestRecord): RoleApprovers {
  const role = row.role === null ? undefined : config.roles[row.role];
  return {
    approvers: role?.approvers ?? [],
    usergroup: role?.usergroup ?? null,
    escalateTo: row.escalatedTo,
  };
}

/**
 * Whether a user may decide: the role's approvers, members of its user group, and the
 * manager once the request was escalated — never the person it is on behalf of.
 */
export async function authorityOf(
  row: RequestRecord,
  role: Role | undefined,
  userId: string,
  isMember: MembershipCheck,
): Promise<RefusalReason | null> {
  if (row.onBehalfOf === userId) return "requester";
  if (row.escalatedTo === userId) return null;
  if (!role) return "not_an_approver";
  return (await inRole(role, userId, isMember)) ? null : "not_an_approver";
}

/**
 * The one definition of "this user decides for this role": listed among its
 * approvers, or a member of its user group (looked up only when not listed).
 */
export async function inRole(
  role: Pick<Role, "approvers" | "usergroup">,
  userId: string,
  isMember: MembershipCheck,
): Promise<boolean> {
  if (role.approvers.includes(userId)) return true;
  return role.usergroup !== null && (await isMember(role.usergroup, userId));
}
