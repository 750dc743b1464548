import type { ParamChange } from "../../approvals/params-edit.ts";
import { diffParams } from "../../approvals/params-edit.ts";
import type { RequestResource } from "../../domain/vocabulary.ts";
import { escapeTruncate, userMention } from "../mrkdwn.ts";
import { REDACTED, redactParams } from "./params.ts";
import { approvers } from "./status.ts";

const VALUE_MAX = 120;
const LINES_MAX = 15;

function show(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? "null");
  return `\`${escapeTruncate(text, VALUE_MAX).replace(/`/g, "ʼ")}\``;
}

/**
 * Readable key-by-key lines: "• `amount`: `75` → `60`". A change under a redacted key is
 * named but its values are never shown; values are shown redacted.
 */
export function changeLines(before: unknown, after: unknown, redactKeys: readonly string[]): string[] {
  const secret = new Set(redactKeys.map((k) => k.toLowerCase()));
  const changes: ParamChange[] = diffParams(before, after);
  const shown = (v: unknown) => show(redactParams(v, redactKeys));
  const lines = changes.slice(0, LINES_MAX).map((c) => {
    const key = `\`${escapeTruncate(c.path, 100).replace(/`/g, "ʼ")}\``;
    if (c.path.split(".").some((segment) => secret.has(segment.toLowerCase()))) {
      return `• ${key} changed (${REDACTED})`;
    }
    if (!("before" in c)) return `• ${key} added: ${shown(c.after)}`;
    if (!("after" in c)) return `• ${key} removed (was ${shown(c.before)})`;
    return `• ${key}: ${shown(c.before)} → ${shown(c.after)}`;
  });
  if (changes.length > LINES_MAX) lines.push(`• … and ${changes.length - LINES_MAX} more`);
  return lines;
}

/** The "Edited" section of a message after an approve-with-edits, or null when not edited. */
export function editText(req: RequestResource, redactKeys: readonly string[]): string | null {
  if (req.approved_params === null) return null;
  const who = req.edited_by === null ? "an approver" : userMention(req.edited_by);
  const lines = [`✏️ *Edited by ${who}* — the approval covers these changes to the parameters:`];
  lines.push(...changeLines(req.params, req.approved_params, redactKeys));
  if (req.status === "pending" && req.approvals_required > 1) {
    lines.push(
      `_Approvals restarted on the edited version: ${approvers(req).length} of ${req.approvals_required}._`,
    );
  }
  return lines.join("\n");
}

/** What a revision changed since the request it revises (summary and params). */
export function revisionText(
  req: RequestResource,
  previous: RequestResource | null,
  redactKeys: readonly string[],
): string | null {
  if (req.revises === null) return null;
  const lines = [`🔁 *Revision of \`${escapeTruncate(req.revises, 100)}\`*`];
  if (previous === null) return lines[0] ?? null;
  const comment = previous.decisions.filter((d) => d.decision === "reject").at(-1)?.comment;
  if (previous.resolution === "changes_requested" && comment) {
    lines.push(`Changes requested: “${escapeTruncate(comment, 300)}”`);
  }
  const changed: string[] = [];
  if (previous.summary !== req.summary) {
    changed.push(`• Summary was: ${escapeTruncate(previous.summary, 300)}`);
  }
  if (previous.action !== req.action)
    changed.push(`• Action was: \`${escapeTruncate(previous.action, 150)}\``);
  changed.push(...changeLines(previous.params, req.params, redactKeys));
  lines.push(changed.length > 0 ? "What changed:" : "Nothing changed in the summary or the parameters.");
  lines.push(...changed);
  return lines.join("\n");
}
