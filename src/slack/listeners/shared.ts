import type { WebClient } from "@slack/web-api";
import { approversNow, type MembershipCheck } from "../../approvals/authority.ts";
import type { Deps } from "../../approvals/deps.ts";
import { type DecisionResult, screenClick } from "../../approvals/record-decision.ts";
import { isUnavailable } from "../../storage/unavailable.ts";
import { clickOrigin } from "../click-origin.ts";
import { renderAlreadyFinal, renderRefusal } from "../render/index.ts";
import {
  type Budget,
  LOOKUP_BUDGET_MS,
  notStoredText,
  storeThenAck,
  withDeadline,
} from "../store-then-ack.ts";
import type { ListenerDeps } from "./context.ts";
import { parseClick } from "./payload.ts";

/**
 * A button that opens a modal (Reject, Edit & approve): the click is screened
 * and stored first (a refusal or a late click is recorded and answered
 * ephemerally), then acked; the modal, which stores nothing, opens after the
 * ack, within the trigger_id's 3 seconds.
 */
export async function screenThenOpen(
  { deps, isMember, kickOutbox }: ListenerDeps,
  decision: "reject" | "edit",
  ack: () => Promise<void>,
  body: unknown,
  client: WebClient,
  open: (trigger: string, requestId: string, channel: string | null, user: string) => Promise<void>,
): Promise<void> {
  const { log } = deps;
  const click = parseClick(body);
  if (!click.ok) {
    await ack();
    return void log.warn({ issues: click.issues }, `ignoring a malformed ${decision} click`);
  }
  const { user, requestId, channel: where, triggerId } = click.value;
  await storeThenAck({
    ack,
    store: (budget) =>
      screenClick(
        deps,
        { requestId, user, decision, comment: null, channel: where, origin: clickOrigin(body) },
        withDeadline(isMember, LOOKUP_BUDGET_MS).check,
        { budgetMs: budget.left() },
      ),
    after: async (screened) => {
      if (screened.kind !== "allowed") {
        log.info({ requestId, user: user.id, result: screened.kind }, `${decision} click refused`);
        return kickOutbox();
      }
      if (triggerId !== undefined) await open(triggerId, requestId, where, user.id);
    },
    notStored: () => ({ ephemeral: { client, channel: where, user: user.id } }),
    log,
    what: { requestId, user: user.id, action: decision },
  });
}

export type ModalErrors = { response_action: "errors"; errors: Record<string, string> };

export const errorsOn = (problem: string, block = "reason"): ModalErrors => ({
  response_action: "errors",
  errors: { [block]: problem },
});

/**
 * A modal submission (Reject, Edit & approve), whose answer is the HTTP
 * response itself: stored first, then answered with any problem on `block`.
 * A user group lookup slower than Slack's 3 seconds would show the approver
 * an error while the decision still took effect, so past a budget it counts as failed.
 */
export async function storeThenAnswer<R extends { kind: string }>(
  { deps, isMember, kickOutbox }: ListenerDeps,
  submission: {
    ack: (answer?: ModalErrors) => Promise<void>;
    block: string;
    action: string;
    requestId: string;
    user: string;
    store: (check: MembershipCheck, budget: Budget) => Promise<R>;
    problem: (result: R) => Promise<string | null>;
    logged?: Record<string, unknown>;
  },
): Promise<void> {
  const { log } = deps;
  const { block, action, requestId, user } = submission;
  const lookup = withDeadline(isMember, LOOKUP_BUDGET_MS);
  await storeThenAck({
    ack: submission.ack,
    store: (budget) => submission.store(lookup.check, budget),
    answer: async (result) => {
      const problem =
        result.kind === "refused" && lookup.timedOut()
          ? "Slack took too long to confirm that you may decide this request. Please submit again."
          : await submission.problem(result);
      return problem === null ? undefined : errorsOn(problem, block);
    },
    after: (result) => {
      log.info({ requestId, user, result: result.kind, ...submission.logged }, action.replace("_", " "));
      kickOutbox();
    },
    // A modal's answer can carry the error itself: the approver sees it on the field.
    notStored: (error) => ({ ack: errorsOn(notStoredText(isUnavailable(error)), block) }),
    log,
    what: { requestId, user, action },
  });
}

/** A decision that could not be recorded is explained inside the modal itself. */
export async function modalProblem(result: DecisionResult, deps: Deps): Promise<string | null> {
  switch (result.kind) {
    case "recorded":
      return null;
    case "not_found":
      return "This request no longer exists.";
    case "already_final":
      return renderAlreadyFinal(result.resource);
    case "refused": {
      const row = await deps.store.getRequest(result.resource.id);
      return renderRefusal(result.reason, result.resource, row && approversNow(deps.config, row));
    }
  }
}
