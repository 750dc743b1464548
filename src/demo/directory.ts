import type { AppConfig } from "../config/file.ts";

/** The simulated workspace's people, channels and user groups, matching demo-config.yml. */

export type DemoUser = { name: string; real_name: string };

export const DEMO_USERS: Record<string, DemoUser> = {
  U0LEAD1: { name: "ana.alvarez", real_name: "Ana Alvarez" },
  U0LEAD2: { name: "ben.okafor", real_name: "Ben Okafor" },
  U0MANAGER: { name: "morgan.lee", real_name: "Morgan Lee" },
  U0FIN1: { name: "farah.haddad", real_name: "Farah Haddad" },
  U0FIN2: { name: "felix.stone", real_name: "Felix Stone" },
  U0CFO: { name: "clara.ng", real_name: "Clara Ng" },
  U0SRE1: { name: "sam.ito", real_name: "Sam Ito" },
  U0SRE2: { name: "jo.park", real_name: "Jo Park" },
  U0SRELEAD: { name: "rui.costa", real_name: "Rui Costa" },
  U0REQUESTER: { name: "riley.chen", real_name: "Riley Chen" },
  U0STRANGER: { name: "pat.quinn", real_name: "Pat Quinn" },
};

/** Whoever the samples act on behalf of (on_behalf_of): they may never approve their own request. */
export const REQUESTER = "U0REQUESTER";
/** Somebody in the workspace with no role at all. */
export const STRANGER = "U0STRANGER";

export const DEMO_USERGROUPS: Record<string, { handle: string; members: string[] }> = {
  S0ONCALL: { handle: "sre-oncall", members: ["U0SRE1", "U0SRE2"] },
};

export const DEMO_CHANNEL_NAMES: Record<string, string> = {
  C0SUPPORT: "support-approvals",
  C0FINANCE: "finance-approvals",
  C0SREOPS: "sre-approvals",
};

export type Persona = { id: string; label: string; group: string };

/**
 * Who the person at the simulator can be: every approver, usergroup member and
 * manager of each role in the config, then the requester and a stranger.
 */
export function personas(config: AppConfig, users: (id: string) => DemoUser | undefined): Persona[] {
  const out: Persona[] = [];
  const seen = new Set<string>();
  const add = (id: string, what: string, group: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const name = users(id)?.real_name ?? id;
    out.push({ id, label: `${name} — ${what}`, group });
  };
  for (const [roleName, role] of Object.entries(config.roles)) {
    for (const id of role.approvers) add(id, `approver`, roleName);
    if (role.usergroup !== null) {
      const group = DEMO_USERGROUPS[role.usergroup];
      for (const id of group?.members ?? []) add(id, `@${group?.handle ?? role.usergroup} member`, roleName);
    }
    if (role.escalate_to !== null) add(role.escalate_to, "manager (gets escalations)", roleName);
  }
  add(REQUESTER, "requester (on_behalf_of)", "others");
  add(STRANGER, "not an approver", "others");
  return out;
}
