import type { ModalView } from "@slack/types";
import type { RequestResource } from "../../domain/vocabulary.ts";
import { escapeTruncate } from "../mrkdwn.ts";

export const REJECT_REASON_MAX = 2000;

const REJECT_OPTION = {
  text: { type: "plain_text" as const, text: "Reject" },
  value: "reject",
  description: { type: "plain_text" as const, text: "Final: the agent must not do this." },
};
const CHANGES_OPTION = {
  text: { type: "plain_text" as const, text: "Request changes" },
  value: "request_changes",
  description: {
    type: "plain_text" as const,
    text: "The agent may send a revised request that addresses your comment.",
  },
};

/** The modal Reject opens; its submission rejects the request with the typed reason. */
export function renderRejectModal(req: RequestResource): ModalView {
  const summary = escapeTruncate(req.summary, 2000);
  return {
    type: "modal",
    callback_id: "reject",
    private_metadata: req.id,
    title: { type: "plain_text", text: "Reject request" },
    submit: { type: "plain_text", text: "Reject" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "section",
        block_id: "summary",
        text: {
          type: "mrkdwn",
          text: `*${escapeTruncate(req.action, 150)}*${summary.trim() === "" ? "" : `\n${summary}`}`,
        },
      },
      {
        type: "input",
        block_id: "kind",
        label: { type: "plain_text", text: "Decision" },
        element: {
          type: "radio_buttons",
          action_id: "kind",
          initial_option: REJECT_OPTION,
          options: [REJECT_OPTION, CHANGES_OPTION],
        },
      },
      {
        type: "input",
        block_id: "reason",
        label: { type: "plain_text", text: "Reason" },
        element: {
          type: "plain_text_input",
          action_id: "reason",
          multiline: true,
          min_length: 1,
          max_length: REJECT_REASON_MAX,
          placeholder: {
            type: "plain_text",
            text: "Why is this rejected, or what should change? The agent receives this.",
          },
        },
      },
    ],
  };
}
