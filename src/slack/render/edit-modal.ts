import type { ModalView } from "@slack/types";
import { editableJson } from "../../approvals/params-edit.ts";
import type { RequestResource } from "../../domain/vocabulary.ts";
import { escapeTruncate } from "../mrkdwn.ts";

/** Slack's plain_text_input holds at most 3000 characters. */
export const EDIT_INPUT_MAX = 3000;

/**
 * The "Edit & approve" modal (CONTRACT §9): the version under review as pretty JSON,
 * redacted keys left out (and kept on submit). Params too long for Slack's input get
 * a note instead of an editor that would cut them.
 */
export function renderEditModal(req: RequestResource, redactKeys: readonly string[]): ModalView {
  const current = req.approved_params ?? req.params;
  const json = editableJson(current, redactKeys);
  const summary = escapeTruncate(req.summary, 1500);
  const head = {
    type: "section" as const,
    block_id: "summary",
    text: {
      type: "mrkdwn" as const,
      text: `*${escapeTruncate(req.action, 150)}*${summary.trim() === "" ? "" : `\n${summary}`}`,
    },
  };
  const base = {
    type: "modal" as const,
    callback_id: "approve_with_edits",
    private_metadata: req.id,
    title: { type: "plain_text" as const, text: "Edit & approve" },
    close: { type: "plain_text" as const, text: "Cancel" },
  };
  if (json.length > EDIT_INPUT_MAX) {
    return {
      ...base,
      blocks: [
        head,
        {
          type: "section",
          block_id: "too_large",
          text: {
            type: "mrkdwn",
            text: `These parameters are too large to edit in Slack (${json.length} characters; the editor holds ${EDIT_INPUT_MAX}). Approve or reject them as proposed, or use Reject → *Request changes* to ask the agent for a revision.`,
          },
        },
      ],
    };
  }
  const notes: string[] = [];
  if (req.approvals_required > 1) {
    notes.push(
      `Your edit restarts the approvals: the edited version needs ${req.approvals_required} approvals, yours included.`,
    );
  }
  if (redactKeys.length > 0) {
    notes.push(
      `Redacted keys (${redactKeys.map((k) => escapeTruncate(k, 50)).join(", ")}) are not shown and stay as they are.`,
    );
  }
  return {
    ...base,
    submit: { type: "plain_text", text: "Approve edited" },
    blocks: [
      head,
      ...(notes.length > 0
        ? [
            {
              type: "context" as const,
              block_id: "notes",
              elements: [{ type: "mrkdwn" as const, text: notes.join("\n") }],
            },
          ]
        : []),
      {
        type: "input",
        block_id: "params",
        label: { type: "plain_text", text: "Parameters (JSON)" },
        hint: { type: "plain_text", text: "Change what should run; submitting approves this version." },
        element: {
          type: "plain_text_input",
          action_id: "params",
          multiline: true,
          initial_value: json,
          max_length: EDIT_INPUT_MAX,
        },
      },
    ],
  };
}
