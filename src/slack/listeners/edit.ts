import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { approveWithEdits, type EditResult } from "../../approvals/approve-with-edits.ts";
import type { Deps } from "../../approvals/deps.ts";
import { loadResource } from "../../approvals/resource.ts";
import { renderEditModal } from "../render/index.ts";
import type { ListenerDeps } from "./context.ts";
import { parseSubmission } from "./payload.ts";
import { modalProblem, screenThenOpen, storeThenAnswer } from "./shared.ts";

/**
 * Edit & approve (CONTRACT §9): screened like Reject (refusals recorded and
 * answered ephemerally), then the modal; its submission approves the edited params.
 */
export function registerEdit(app: App, context: ListenerDeps): void {
  const { deps } = context;
  const { log } = deps;
  app.action("edit", ({ ack, body, client }) =>
    screenThenOpen(
      context,
      "edit",
      () => ack(),
      body,
      client,
      (trigger, requestId) => openEditModal(client, trigger, requestId, deps),
    ),
  );

  app.view("approve_with_edits", async ({ ack, body }) => {
    const parsed = parseSubmission(body);
    if (!parsed.ok) {
      await ack();
      return void log.warn({ issues: parsed.issues }, "ignoring a malformed edit submission");
    }
    const submission = parsed.value;
    const text = submission.text("params") ?? "";
    await storeThenAnswer<EditResult>(context, {
      ack: (answer) => ack(answer),
      block: "params",
      action: "edit_submission",
      requestId: submission.requestId,
      user: submission.user.id,
      store: (check, budget) =>
        approveWithEdits(deps, { requestId: submission.requestId, user: submission.user, text }, check, {
          budgetMs: budget.left(),
        }),
      problem: async (result) => (result.kind === "invalid" ? result.message : modalProblem(result, deps)),
    });
  });
}

async function openEditModal(
  client: WebClient,
  triggerId: string,
  requestId: string,
  deps: Deps,
): Promise<void> {
  const loaded = await loadResource(deps, requestId);
  if (!loaded) return;
  const view = renderEditModal(loaded.resource, deps.config.redact);
  try {
    await client.views.open({ trigger_id: triggerId, view });
  } catch (error) {
    deps.log.error({ err: error, requestId }, "could not open the edit modal");
  }
}
