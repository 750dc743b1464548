import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import { approveWithEdits, type EditResult } from "../approvals/approve-with-edits.ts";
import { approversNow, type MembershipCheck } from "../approvals/authority.ts";
import type { Deps } from "../approvals/deps.ts";
import { type DecisionResult, recordDecision, screenClick } from "../approvals/record-decision.ts";
import { toResource } from "../approvals/resource.ts";
import { isUnavailable } from "../db/group-commit.ts";
import { clickOrigin } from "./click-origin.ts";
import {
  REJECT_REASON_MAX,
  renderAlreadyFinal,
  renderEditModal,
  renderRefusal,
  renderRejectModal,
} from "./render/index.ts";
import {
  type Budget,
  LOOKUP_BUDGET_MS,
  notStoredText,
  storeThenAck,
  withDeadline,
} from "./store-then-ack.ts";

/** The parts of a block_actions payload we rely on, validated rather than trusted. */
const clickSchema = z.object({
  user: z.object({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  trigger_id: z.string().optional(),
  container: z.object({ channel_id: z.string().optional() }).optional(),
  channel: z.object({ id: z.string() }).optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).min(1),
});

const submissionSchema = z.object({
  user: z.object({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  view: z.object({
    private_metadata: z.string(),
    state: z.object({
      values: z.record(
        z.string(),
        z.record(
          z.string(),
          z.object({
            value: z.string().nullish(),
            selected_option: z.object({ value: z.string() }).nullish(),
          }),
        ),
      ),
    }),
  }),
});

export interface ListenerDeps {
  deps: Deps;
  isMember: MembershipCheck;
  /** Called after a verb queued Slack side effects. */
  kickOutbox: () => void;
}

/**
 * Every handler follows storeThenAck (store-then-ack.ts): Approve records the
 * vote, then acks; Reject screens the clicker (a refusal is audited), acks,
 * then opens the reason modal; the modal's submission records the rejection
 * and its answer (the HTTP response) says whether it went through.
 */
export function registerListeners(app: App, { deps, isMember, kickOutbox }: ListenerDeps): void {
  const { log } = deps;

  app.action("approve", async ({ ack, body, client }) => {
    const click = clickSchema.safeParse(body);
    if (!click.success) {
      await ack();
      return void log.warn({ issues: click.error.issues }, "ignoring a malformed approve click");
    }
    const { user, actions, container, channel } = click.data;
    const requestId = actions[0]?.value ?? "";
    const where = container?.channel_id ?? channel?.id ?? null;
    await storeThenAck({
      ack: () => ack(),
      store: (budget) =>
        recordDecision(
          deps,
          {
            requestId,
            user: { id: user.id, name: user.username ?? user.name ?? null },
            decision: "approve",
            comment: null,
            channel: where,
            origin: clickOrigin(body),
          },
          withDeadline(isMember, LOOKUP_BUDGET_MS).check,
          { budgetMs: budget.left() },
        ),
      after: (result) => {
        log.debug({ requestId, user: user.id, result: result.kind }, "approve click");
        kickOutbox();
      },
      notStored: () => ({ ephemeral: { client, channel: where, user: user.id } }),
      log,
      what: { requestId, user: user.id, action: "approve" },
    });
  });

  /**
   * A button that opens a modal (Reject, Edit & approve): the click is screened
   * and stored first (a refusal or a late click is recorded and answered
   * ephemerally), then acked; the modal, which stores nothing, opens after the
   * ack, within the trigger_id's 3 seconds.
   */
  const screenThenOpen = async (
    decision: "reject" | "edit",
    ack: () => Promise<void>,
    body: unknown,
    client: WebClient,
    open: (trigger: string, requestId: string, channel: string | null, user: string) => Promise<void>,
  ): Promise<void> => {
    const click = clickSchema.safeParse(body);
    if (!click.success) {
      await ack();
      return void log.warn({ issues: click.error.issues }, `ignoring a malformed ${decision} click`);
    }
    const { user, actions, container, channel, trigger_id } = click.data;
    const requestId = actions[0]?.value ?? "";
    const where = container?.channel_id ?? channel?.id ?? null;
    await storeThenAck({
      ack,
      store: (budget) =>
        screenClick(
          deps,
          {
            requestId,
            user: { id: user.id, name: user.username ?? user.name ?? null },
            decision,
            comment: null,
            channel: where,
            origin: clickOrigin(body),
          },
          withDeadline(isMember, LOOKUP_BUDGET_MS).check,
          { budgetMs: budget.left() },
        ),
      after: async (screened) => {
        if (screened.kind !== "allowed") {
          log.info({ requestId, user: user.id, result: screened.kind }, `${decision} click refused`);
          return kickOutbox();
        }
        if (trigger_id !== undefined) await open(trigger_id, requestId, where, user.id);
      },
      notStored: () => ({ ephemeral: { client, channel: where, user: user.id } }),
      log,
      what: { requestId, user: user.id, action: decision },
    });
  };

  /**
   * A modal submission (Reject, Edit & approve), whose answer is the HTTP
   * response itself: stored first, then answered with any problem on `block`.
   * A user group lookup slower than Slack's 3 seconds would show the approver
   * an error while the decision still took effect, so past a budget it counts as failed.
   */
  const storeThenAnswer = async <R extends { kind: string }>(submission: {
    ack: (answer?: ModalErrors) => Promise<void>;
    block: string;
    action: string;
    requestId: string;
    user: string;
    store: (check: MembershipCheck, budget: Budget) => Promise<R>;
    problem: (result: R) => Promise<string | null>;
    logged?: Record<string, unknown>;
  }): Promise<void> => {
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
  };

  app.action("reject", ({ ack, body, client }) =>
    screenThenOpen(
      "reject",
      () => ack(),
      body,
      client,
      (trigger, requestId, where, user) => openRejectModal(client, trigger, requestId, deps, where, user),
    ),
  );

  app.view("reject", async ({ ack, body }) => {
    const submission = submissionSchema.safeParse(body);
    if (!submission.success) {
      await ack();
      return void log.warn({ issues: submission.error.issues }, "ignoring a malformed reject submission");
    }
    const { user, view } = submission.data;
    const reason = (view.state.values.reason?.reason?.value ?? "").trim();
    // Older modals (opened before the kind choice existed) have no kind block: a plain rejection.
    const kind = view.state.values.kind?.kind?.selected_option?.value ?? "reject";
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
    await storeThenAnswer<DecisionResult>({
      ack: (answer) => ack(answer),
      block: "reason",
      action: "reject_submission",
      requestId: view.private_metadata,
      user: user.id,
      store: (check, budget) =>
        recordDecision(
          deps,
          {
            requestId: view.private_metadata,
            user: { id: user.id, name: user.username ?? user.name ?? null },
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

  // Edit & approve (CONTRACT §9): screened like Reject (refusals recorded and answered
  // ephemerally), then the modal; its submission approves the edited params.
  app.action("edit", ({ ack, body, client }) =>
    screenThenOpen(
      "edit",
      () => ack(),
      body,
      client,
      (trigger, requestId) => openEditModal(client, trigger, requestId, deps),
    ),
  );

  app.view("approve_with_edits", async ({ ack, body }) => {
    const submission = submissionSchema.safeParse(body);
    if (!submission.success) {
      await ack();
      return void log.warn({ issues: submission.error.issues }, "ignoring a malformed edit submission");
    }
    const { user, view } = submission.data;
    const text = view.state.values.params?.params?.value ?? "";
    await storeThenAnswer<EditResult>({
      ack: (answer) => ack(answer),
      block: "params",
      action: "edit_submission",
      requestId: view.private_metadata,
      user: user.id,
      store: (check, budget) =>
        approveWithEdits(
          deps,
          {
            requestId: view.private_metadata,
            user: { id: user.id, name: user.username ?? user.name ?? null },
            text,
          },
          check,
          { budgetMs: budget.left() },
        ),
      problem: (result) => editProblem(result, deps),
    });
  });
}

async function editProblem(result: EditResult, deps: Deps): Promise<string | null> {
  return result.kind === "invalid" ? result.message : modalProblem(result, deps);
}

async function openEditModal(
  client: WebClient,
  triggerId: string,
  requestId: string,
  deps: Deps,
): Promise<void> {
  const row = await deps.store.getRequest(requestId);
  if (!row) return;
  const view = renderEditModal(toResource(row, await deps.store.decisionsFor(requestId)), deps.config.redact);
  try {
    await client.views.open({ trigger_id: triggerId, view });
  } catch (error) {
    deps.log.error({ err: error, requestId }, "could not open the edit modal");
  }
}

type ModalErrors = { response_action: "errors"; errors: Record<string, string> };
const errorsOn = (problem: string, block = "reason"): ModalErrors => ({
  response_action: "errors",
  errors: { [block]: problem },
});

/** A rejection that could not be recorded is explained inside the modal itself. */
async function modalProblem(result: DecisionResult, deps: Deps): Promise<string | null> {
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

async function openRejectModal(
  client: WebClient,
  triggerId: string,
  requestId: string,
  deps: Deps,
  channel: string | null,
  user: string,
): Promise<void> {
  const row = await deps.store.getRequest(requestId);
  if (!row) return;
  const view = renderRejectModal(toResource(row, await deps.store.decisionsFor(requestId)));
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
