import type { ModalView } from "@slack/types";
import type { RequestResource } from "../../approvals/types.ts";
import { escapeTruncate } from "../mrkdwn.ts";

export const REJECT_REASON_MAX = 2000;

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
        block_id: "reason",
        label: { type: "plain_text", text: "Reason" },
        element: {
          type: "plain_text_input",
          action_id: "reason",
          multiline: true,
          min_length: 1,
          max_length: REJECT_REASON_MAX,
          placeholder: { type: "plain_text", text: "Why is this rejected? The agent receives this reason." },
        },
      },
    ],
  };
}
