import type { Status } from "../../domain/vocabulary.ts";
import { escapeTruncate } from "../mrkdwn.ts";

/** The agent's other requests for the same action in the window before this one, by status. */
export interface ActionHistory {
  agent: string;
  action: string;
  windowText: string;
  counts: Partial<Record<Status, number>>;
}

/** "Needs a human: policy `medium-refunds` — action refund.issue matches refund.*, params.amount 75 ≤ 200". */
export function whyText(policy: string, conditions: readonly string[]): string {
  const because = conditions.length > 0 ? ` — ${escapeTruncate(conditions.join(", "), 600)}` : "";
  return `*Why a human:* policy \`${escapeTruncate(policy, 100)}\`${because}`;
}

/** "support-bot: 14 refund.issue in 24 h — 12 approved, 1 rejected, 1 expired". */
export function historyText(h: ActionHistory): string {
  const order: Status[] = ["approved", "rejected", "expired", "cancelled", "pending"];
  const total = order.reduce((n, s) => n + (h.counts[s] ?? 0), 0);
  const head = `*History:* ${escapeTruncate(h.agent, 80)}: ${total} ${escapeTruncate(h.action, 100)} in ${h.windowText}`;
  if (total === 0) return `${head} before this one`;
  const parts = order.filter((s) => (h.counts[s] ?? 0) > 0).map((s) => `${h.counts[s]} ${s}`);
  return `${head} — ${parts.join(", ")}`;
}
