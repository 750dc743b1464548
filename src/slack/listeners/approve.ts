import type { App } from "@slack/bolt";
import { recordDecision } from "../../approvals/record-decision.ts";
import { clickOrigin } from "../click-origin.ts";
import { LOOKUP_BUDGET_MS, storeThenAck, withDeadline } from "../store-then-ack.ts";
import type { ListenerDeps } from "./context.ts";
import { parseClick } from "./payload.ts";

/** Approve: records the vote (storeThenAck), then acks; refusals are answered ephemerally. */
export function registerApprove(app: App, { deps, isMember, kickOutbox }: ListenerDeps): void {
  const { log } = deps;
  app.action("approve", async ({ ack, body, client }) => {
    const click = parseClick(body);
    if (!click.ok) {
      await ack();
      return void log.warn({ issues: click.issues }, "ignoring a malformed approve click");
    }
    const { user, requestId, channel: where } = click.value;
    await storeThenAck({
      ack: () => ack(),
      store: (budget) =>
        recordDecision(
          deps,
          { requestId, user, decision: "approve", comment: null, channel: where, origin: clickOrigin(body) },
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
}
