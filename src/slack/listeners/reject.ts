import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { Deps } from "../../approvals/deps.ts";
import { type DecisionResult, recordDecision } from "../../approvals/record-decision.ts";
import { loadResource } from "../../approvals/resource.ts";
import { REJECT_REASON_MAX, renderRejectModal } from "../render/index.ts";
import type { ListenerDeps } from "./context.ts";
import { parseSubmission } from "./payload.ts";
import { errorsOn, modalProblem, screenThenOpen, storeThenAnswer } from "./shared.ts";

/**
 * Reject: the click is screened (a refusal is audited), acked, then the reason
 * modal opens; its submission records the rejection (or a request for changes)
 * and its answer (the HTTP response) says whether it went through.
 */
export function registerReject(app: App, context: ListenerDeps): void {
  const { deps } = context;
  const { log } = deps;
  app.action("reject", ({ ack, body, client }) =>
    screenThenOpen(
      context,
      "reject",
      () => ack(),
      body,
      client,
      (trigger, requestId, where, user) => openRejectModal(client, trigger, requestId, deps, where, user),
    ),
  );

  app.view("reject", async ({ ack, body }) => {
    const parsed = parseSubmission(body);
    if (!parsed.ok) {
      await ack();
      return void log.warn({ issues: parsed.issues }, "ignoring a malformed reject submission");
    }
    const submission = parsed.value;
    const reason = (submission.text("reason") ?? "").trim();
    // Older modals (opened before the kind choice existed) have no kind block: a plain rejection.
    const kind = submission.selected("kind") ?? "reject";
    if (kind !== "reject" && kind !== "request_changes") {
      await ack({ response_action: "errors", errors: { kind: "Choose Reject or Request changes." } });
      return;
    }
    if (reason.length === 0 || reason.length > REJECT_REASON_MAX) {
      await ack(
        errorsOn(
          reason.length === 0
            ? "Please say why you are rejecting this request."
            : `Please keep the reason under ${REJECT_REASON_MAX} characters (it has ${reason.length}).`,
        ),
      );
      return;
    }
    await storeThenAnswer<DecisionResult>(context, {
      ack: (answer) => ack(answer),
      block: "reason",
      action: "reject_submission",
      requestId: submission.requestId,
      user: submission.user.id,
      store: (check, budget) =>
        recordDecision(
          deps,
          {
            requestId: submission.requestId,
            user: submission.user,
            decision: "reject",
            comment: reason,
            channel: null,
            changesRequested: kind === "request_changes",
          },
          check,
          { budgetMs: budget.left() },
        ),
      problem: (result) => modalProblem(result, deps),
      logged: { kind },
    });
  });
}

async function openRejectModal(
  client: WebClient,
  triggerId: string,
  requestId: string,
  deps: Deps,
  channel: string | null,
  user: string,
): Promise<void> {
  const loaded = await loadResource(deps, requestId);
  if (!loaded) return;
  const view = renderRejectModal(loaded.resource);
  try {
    await client.views.open({ trigger_id: triggerId, view });
  } catch (error) {
    // The trigger is good for 3 seconds only; nothing was changed, the approver can click again.
    deps.log.error({ err: error, requestId }, "could not open the reject modal");
    if (channel === null) return;
    await client.chat
      .postEphemeral({
        channel,
        user,
        text: "Slack could not open the rejection form in time; nothing was recorded. Please click Reject again.",
      })
      .catch((postError: unknown) =>
        deps.log.error({ err: postError, requestId }, "could not say so either"),
      );
  }
}
