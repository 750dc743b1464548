import type { MembershipCheck } from "../../approvals/authority.ts";
import type { Deps } from "../../approvals/deps.ts";

/** What every interaction handler is given. */
export interface ListenerDeps {
  deps: Deps;
  isMember: MembershipCheck;
  /** Called after a verb queued Slack side effects. */
  kickOutbox: () => void;
}
