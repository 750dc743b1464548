import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import { approveWithEdits, type EditResult } from "../approvals/approve-with-edits.ts";
import { approversNow, type MembershipCheck } from "../approvals/authority.ts";
import type { Deps } from "../approvals/deps.ts";
import { type DecisionResult, recordDecision, screenClick } from "../approvals/record-decision.ts";
import { toResource } from "../approvals/resource.ts";
import {
  REJECT_REASON_MAX,
  renderAlreadyFinal,
  renderEditModal,
  renderRefusal,
  renderRejectModal,
} from "./render/index.ts";

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
 * Approve records a vote at once; Reject first screens the clicker, then opens
 * the reason modal, whose submission records the rejection. Every handler acks
 * before doing any work, well inside Slack's 3 seconds.
 */
export function registerListeners(app: App, { deps, isMember, kickOutbox }: ListenerDeps): void {
  const { log } = deps;

  app.action("approve", async ({ ack, body }) => {
    await ack();
    const click = clickSchema.safeParse(body);
    if (!click.success)
      return void log.warn({ issues: click.error.issues }, "ignoring a malformed approve click");
    const { user, actions, container, channel } = click.data;
    const requestId = actions[0]?.value ?? "";
    const result = await recordDecision(
      deps,
      {
        requestId,
        user: { id: user.id, name: user.username ?? user.name ?? null },
        decision: "approve",
        comment: null,
        channel: container?.channel_id ?? channel?.id ?? null,
      },
      isMember,
    );
    log.debug({ requestId, user: user.id, result: result.kind }, "approve click");
    kickOutbox();
  });

  app.action("reject", async ({ ack, body, client }) => {
    await ack();
    const click = clickSchema.safeParse(body);
    if (!click.success)
      return void log.warn({ issues: click.error.issues }, "ignoring a malformed reject click");
    const { user, actions, container, channel, trigger_id } = click.data;
    const requestId = actions[0]?.value ?? "";
    const screened = await screenClick(
      deps,
      {
        requestId,
        user: { id: user.id, name: user.username ?? user.name ?? null },
        decision: "reject",
        comment: null,
        channel: container?.channel_id ?? channel?.id ?? null,
      },
      isMember,
    );
    if (screened.kind !== "allowed") {
      log.info({ requestId, user: user.id, result: screened.kind }, "reject click refused");
      return kickOutbox();
    }
    if (trigger_id !== undefined) await openRejectModal(client, trigger_id, requestId, deps);
  });

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
      await ack({
        response_action: "errors",
        errors: {
          reason:
            reason.length === 0
              ? "Please say why you are rejecting this request."
              : `Please keep the reason under ${REJECT_REASON_MAX} characters (it has ${reason.length}).`,
        },
      });
      return;
    }
    // The answer to a submission is the HTTP response itself: a user group
    // lookup slower than Slack's 3 seconds would show the approver an error
    // while the rejection still took effect, so past a budget it counts as failed.
    const lookup = withDeadline(isMember, MODAL_LOOKUP_BUDGET_MS);
    const result = await recordDecision(
      deps,
      {
        requestId: view.private_metadata,
        user: { id: user.id, name: user.username ?? user.name ?? null },
        decision: "reject",
        comment: reason,
        channel: null,
        changesRequested: kind === "request_changes",
      },
      lookup.check,
    );
    const problem =
      result.kind === "refused" && lookup.timedOut()
        ? "Slack took too long to confirm that you may decide this request. Please submit again."
        : modalProblem(result, deps);
    await ack(problem === null ? undefined : { response_action: "errors", errors: { reason: problem } });
    log.info(
      { requestId: view.private_metadata, user: user.id, result: result.kind, kind },
      "reject submission",
    );
    kickOutbox();
  });

  // Edit & approve (CONTRACT §9): screened like Reject (refusals recorded and answered
  // ephemerally), then the modal; its submission approves the edited params.
  app.action("edit", async ({ ack, body, client }) => {
    const click = clickSchema.safeParse(body);
    if (!click.success) {
      await ack();
      return void log.warn({ issues: click.error.issues }, "ignoring a malformed edit click");
    }
    const { user, actions, container, channel, trigger_id } = click.data;
    const requestId = actions[0]?.value ?? "";
    const screened = await screenClick(
      deps,
      {
        requestId,
        user: { id: user.id, name: user.username ?? user.name ?? null },
        decision: "edit",
        comment: null,
        channel: container?.channel_id ?? channel?.id ?? null,
      },
      isMember,
    );
    await ack();
    if (screened.kind !== "allowed") {
      log.info({ requestId, user: user.id, result: screened.kind }, "edit click refused");
      return kickOutbox();
    }
    if (trigger_id !== undefined) await openEditModal(client, trigger_id, requestId, deps);
  });

  app.view("approve_with_edits", async ({ ack, body }) => {
    const submission = submissionSchema.safeParse(body);
    if (!submission.success) {
      await ack();
      return void log.warn({ issues: submission.error.issues }, "ignoring a malformed edit submission");
    }
    const { user, view } = submission.data;
    const text = view.state.values.params?.params?.value ?? "";
    const lookup = withDeadline(isMember, MODAL_LOOKUP_BUDGET_MS);
    const result = await approveWithEdits(
      deps,
      {
        requestId: view.private_metadata,
        user: { id: user.id, name: user.username ?? user.name ?? null },
        text,
      },
      lookup.check,
    );
    const problem =
      result.kind === "refused" && lookup.timedOut()
        ? "Slack took too long to confirm that you may decide this request. Please submit again."
        : editProblem(result, deps);
    await ack(problem === null ? undefined : { response_action: "errors", errors: { params: problem } });
    log.info({ requestId: view.private_metadata, user: user.id, result: result.kind }, "edit submission");
    kickOutbox();
  });
}

function editProblem(result: EditResult, deps: Deps): string | null {
  return result.kind === "invalid" ? result.message : modalProblem(result, deps);
}

async function openEditModal(
  client: WebClient,
  triggerId: string,
  requestId: string,
  deps: Deps,
): Promise<void> {
  const row = deps.store.getRequest(requestId);
  if (!row) return;
  const view = renderEditModal(toResource(row, deps.store.decisionsFor(requestId)), deps.config.redact);
  try {
    await client.views.open({ trigger_id: triggerId, view });
  } catch (error) {
    deps.log.error({ err: error, requestId }, "could not open the edit modal");
  }
}

/** Leaves room inside Slack's 3 seconds for the transaction and the response. */
const MODAL_LOOKUP_BUDGET_MS = 2_000;

/**
 * A membership check that fails after `ms`; the lookup itself runs on and
 * fills the cache, so the approver's next attempt is answered at once.
 */
function withDeadline(
  isMember: MembershipCheck,
  ms: number,
): { check: MembershipCheck; timedOut: () => boolean } {
  let timedOut = false;
  const check: MembershipCheck = (group, userId) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error(`usergroup lookup took longer than ${ms} ms`));
      }, ms);
    });
    return Promise.race([isMember(group, userId), deadline]).finally(() => clearTimeout(timer));
  };
  return { check, timedOut: () => timedOut };
}

/** A rejection that could not be recorded is explained inside the modal itself. */
function modalProblem(result: DecisionResult, deps: Deps): string | null {
  switch (result.kind) {
    case "recorded":
      return null;
    case "not_found":
      return "This request no longer exists.";
    case "already_final":
      return renderAlreadyFinal(result.resource);
    case "refused": {
      const row = deps.store.getRequest(result.resource.id);
      return renderRefusal(result.reason, result.resource, row && approversNow(deps.config, row));
    }
  }
}

async function openRejectModal(
  client: WebClient,
  triggerId: string,
  requestId: string,
  deps: Deps,
): Promise<void> {
  const row = deps.store.getRequest(requestId);
  if (!row) return;
  const view = renderRejectModal(toResource(row, deps.store.decisionsFor(requestId)));
  try {
    await client.views.open({ trigger_id: triggerId, view });
  } catch (error) {
    // The trigger is good for 3 seconds only; nothing was changed, the approver can click again.
    deps.log.error({ err: error, requestId }, "could not open the reject modal");
  }
}
