import { z } from "zod";
import type { FakeSlack } from "../../fake-slack/slack-api.ts";
import {
  appHomeOpenedEvent,
  blockActionsPayload,
  newTriggerId,
  type PayloadUser,
  postSignedToApp,
  postToApp,
  slashCommandBody,
  type ViewStateValue,
  viewSubmissionPayload,
} from "../../fake-slack/slack-requests.ts";
import type { WorkspaceChange } from "../../fake-slack/workspace.ts";
import type { Answer } from "./http.ts";
import type { OpenModal } from "./views.ts";

/**
 * What a person does in the simulated Slack, sent to countersign exactly as Slack
 * would: a button click is a signed block_actions, a modal submission a signed
 * view_submission. Modals countersign opens (views.open) are shown to whoever
 * clicked, found by the trigger_id of their click.
 */

export const userIdSchema = z.string().regex(/^[UW][A-Z0-9]{2,40}$/);
export const clickSchema = z.object({
  as: userIdSchema,
  channel: z.string().min(1).max(40),
  ts: z.string().min(1).max(40),
  actionId: z.enum(["approve", "reject", "edit"]),
  value: z.string().max(2000),
  blockId: z.string().max(255).optional(),
});
export const submitSchema = z.object({
  as: userIdSchema,
  viewId: z.string().min(1).max(40),
  values: z.record(z.string(), z.record(z.string(), z.string().max(10_000))),
});
export const closeSchema = z.object({ viewId: z.string().min(1).max(40) });
export const homeSchema = z.object({ as: userIdSchema });
export const commandSchema = z.object({
  as: userIdSchema,
  channel: z.string().min(1).max(40),
  /** What was typed, e.g. "/countersign req_…". */
  text: z.string().min(1).max(4000),
});
const commandAck = z.object({ text: z.string().optional(), blocks: z.array(z.unknown()).optional() });

const errorsAnswer = z.object({
  response_action: z.literal("errors"),
  errors: z.record(z.string(), z.string()),
});

export interface Interactions {
  click(input: z.infer<typeof clickSchema>): Promise<Answer>;
  submit(input: z.infer<typeof submitSchema>): Promise<Answer>;
  close(viewId: string): void;
  /** The person opens the app's Home tab: Slack sends app_home_opened; the app publishes the view. */
  openHome(input: z.infer<typeof homeSchema>): Promise<Answer>;
  /** The person runs a slash command in a channel: its answer is an ephemeral only they see. */
  command(input: z.infer<typeof commandSchema>): Promise<Answer>;
  /** The newest modal open for this person, if any. */
  modalFor(user: string): OpenModal | undefined;
  /** Feed every workspace change here (it picks up views.open). */
  observe(change: WorkspaceChange): void;
}

export function createInteractions(opts: {
  fake: FakeSlack;
  appUrl: string;
  signingSecret: string;
  /** Deliver over the fake's Socket Mode WebSocket instead of signed HTTP posts to /slack/events. */
  socketMode?: boolean;
  /** Called when modal state changed without a workspace change. */
  changed: () => void;
}): Interactions {
  const { fake } = opts;
  const ws = fake.workspace;
  const events = `${opts.appUrl}/slack/events`;
  const triggers = new Map<string, string>();
  const modals = new Map<string, OpenModal>();

  /** To countersign as Slack would: a signed POST, or an envelope over the WebSocket (504: no ack in 3 s). */
  const deliver = async (payload: Record<string, unknown>): Promise<{ status: number; json?: unknown }> => {
    if (opts.socketMode !== true) return postToApp(events, opts.signingSecret, payload);
    const ack = await fake.socket.sendInteractive(payload);
    if (!ack.acked) return { status: 504 };
    return Object.keys(ack.payload).length > 0 ? { status: 200, json: ack.payload } : { status: 200 };
  };

  const payloadUser = (id: string): PayloadUser => {
    const name = ws.user(id)?.name ?? id.toLowerCase();
    return { id, username: name, name };
  };

  return {
    async click(input) {
      const message = ws.message(input.channel, input.ts);
      if (!message) return { status: 404, body: { error: "no such message" } };
      const triggerId = newTriggerId();
      if (input.actionId !== "approve") triggers.set(triggerId, input.as);
      const payload = blockActionsPayload({
        user: payloadUser(input.as),
        actionId: input.actionId,
        value: input.value,
        channelId: input.channel,
        messageTs: input.ts,
        isDm: input.channel.startsWith("D"),
        triggerId,
        ...(input.blockId ? { blockId: input.blockId } : {}),
        message: {
          text: message.text,
          ...(message.blocks ? { blocks: message.blocks } : {}),
          ...(message.metadata !== undefined ? { metadata: message.metadata } : {}),
        },
      });
      const res = await deliver(payload);
      return { status: 200, body: { appStatus: res.status } };
    },

    async submit(input) {
      const open = modals.get(input.viewId);
      if (!open || open.user !== input.as) return { status: 404, body: { error: "no such modal" } };
      // Each value is reported the way Slack reports its element: radio choices as selected_option.
      const elementTypes = new Map<string, unknown>();
      for (const b of (open.view.blocks as
        | { block_id?: string; element?: { type?: unknown } }[]
        | undefined) ?? []) {
        if (b.block_id !== undefined) elementTypes.set(b.block_id, b.element?.type);
      }
      const values: Record<string, Record<string, ViewStateValue>> = {};
      for (const [block, actions] of Object.entries(input.values)) {
        const radio = elementTypes.get(block) === "radio_buttons";
        values[block] = Object.fromEntries(
          Object.entries(actions).map(([action, value]): [string, ViewStateValue] => [
            action,
            radio
              ? { type: "radio_buttons", selected_option: value === "" ? null : { value } }
              : { type: "plain_text_input", value: value === "" ? null : value },
          ]),
        );
      }
      const title = (open.view.title as { text?: unknown } | undefined)?.text;
      const payload = viewSubmissionPayload({
        user: payloadUser(input.as),
        callbackId: String(open.view.callback_id ?? ""),
        privateMetadata: String(open.view.private_metadata ?? ""),
        values,
        viewId: open.id,
        ...(typeof title === "string" ? { title } : {}),
      });
      const res = await deliver(payload);
      const answer = errorsAnswer.safeParse(res.json);
      // Errors stay inside the modal, as in Slack; any other 200 closes it.
      if (answer.success) open.errors = answer.data.errors;
      else if (res.status === 200) modals.delete(open.id);
      opts.changed();
      return {
        status: 200,
        body: { appStatus: res.status, errors: answer.success ? answer.data.errors : null },
      };
    },

    close(viewId) {
      modals.delete(viewId);
      opts.changed();
    },

    async openHome(input) {
      const event = appHomeOpenedEvent(input.as, `D${input.as.slice(1)}`);
      const res = await postSignedToApp(
        events,
        opts.signingSecret,
        JSON.stringify(event),
        "application/json",
      );
      return { status: 200, body: { appStatus: res.status } };
    },

    async command(input) {
      const [command = "", ...rest] = input.text.trim().split(/\s+/);
      if (command !== "/countersign") {
        return {
          status: 400,
          body: { error: "only /countersign is simulated here; try /countersign or /countersign req_…" },
        };
      }
      const body = slashCommandBody({
        user: payloadUser(input.as),
        command,
        text: rest.join(" "),
        channelId: input.channel,
        channelName: ws.channels().find((c) => c.id === input.channel)?.name ?? input.channel,
      });
      const res = await postSignedToApp(
        events,
        opts.signingSecret,
        body,
        "application/x-www-form-urlencoded",
      );
      const ack = commandAck.safeParse(res.json);
      if (res.status === 200 && ack.success) {
        ws.postEphemeral({
          channel: input.channel,
          user: input.as,
          text: ack.data.text ?? "",
          blocks: ack.data.blocks,
        });
      }
      return { status: 200, body: { appStatus: res.status } };
    },

    modalFor(user) {
      return [...modals.values()].filter((m) => m.user === user).at(-1);
    },

    observe(change) {
      if (change.type === "reset") modals.clear();
      if (change.type !== "view_opened") return;
      const opened = fake.views.find((v) => v.id === change.id);
      const user = opened ? triggers.get(opened.trigger_id) : undefined;
      if (!opened || !user) return;
      triggers.delete(opened.trigger_id);
      modals.set(opened.id, { id: opened.id, user, view: opened.view, errors: {} });
    },
  };
}
