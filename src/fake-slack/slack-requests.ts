/**
 * Requests the way Slack sends them to an app: interaction payloads, the form encoding,
 * and the v0 request signature. Used by tests and by the simulator's buttons.
 */
import { createHmac, randomBytes } from "node:crypto";
import { BOT_USER_ID, TEAM_DOMAIN, TEAM_ID } from "./workspace.ts";

export const API_APP_ID = "A0COUNTERSIGN";
/** The deprecated verification token Slack still puts in payloads; apps must not rely on it. */
const LEGACY_TOKEN = "legacy-verification-token";

export type SlackSignatureHeaders = { "x-slack-signature": string; "x-slack-request-timestamp": string };

/** `v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`). */
export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestampSec: number,
): SlackSignatureHeaders {
  const hmac = createHmac("sha256", signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest("hex");
  return { "x-slack-signature": `v0=${hmac}`, "x-slack-request-timestamp": String(timestampSec) };
}

export type PayloadUser = { id: string; username?: string; name?: string; team_id?: string };

function fullUser(user: PayloadUser): Required<PayloadUser> {
  const name = user.name ?? user.username ?? user.id.toLowerCase();
  return { id: user.id, username: user.username ?? name, name, team_id: user.team_id ?? TEAM_ID };
}

/** Shaped like Slack's ("13345224609.738474920.8088930838d88f008e0"); unique per call. */
export function newTriggerId(): string {
  const hex = randomBytes(10).toString("hex");
  return `${Date.now()}.${randomBytes(4).readUInt32BE()}.${hex}`;
}

const nowTs = (): string => (Date.now() / 1000).toFixed(6);

export type BlockActionsInput = {
  user: PayloadUser;
  actionId: "approve" | "reject" | "edit";
  /** The button's value (the request id). */
  value: string;
  channelId: string;
  messageTs: string;
  isDm?: boolean;
  triggerId?: string;
  /** Where `respond()` would post; Slack's is on hooks.slack.com. */
  responseUrl?: string;
  blockId?: string;
  /** The clicked message as Slack echoes it (e.g. from `fake.messages()`), with the metadata it was posted with. */
  message?: { text?: string; blocks?: unknown[]; metadata?: unknown };
  actionTs?: string;
};

/** The `block_actions` payload Slack sends when a button in a message is clicked. */
export function blockActionsPayload(input: BlockActionsInput): Record<string, unknown> {
  const user = fullUser(input.user);
  const approve = input.actionId === "approve";
  const label = approve ? "Approve" : input.actionId === "edit" ? "Edit & approve" : "Reject";
  const style = approve ? { style: "primary" } : input.actionId === "reject" ? { style: "danger" } : {};
  return {
    type: "block_actions",
    user,
    api_app_id: API_APP_ID,
    token: LEGACY_TOKEN,
    container: {
      type: "message",
      message_ts: input.messageTs,
      channel_id: input.channelId,
      is_ephemeral: false,
    },
    trigger_id: input.triggerId ?? newTriggerId(),
    team: { id: user.team_id, domain: TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: input.isDm ? "directmessage" : input.channelId.toLowerCase() },
    message: {
      type: "message",
      ts: input.messageTs,
      text: input.message?.text ?? "",
      ...(input.message?.blocks !== undefined ? { blocks: input.message.blocks } : {}),
      ...(input.message?.metadata !== undefined ? { metadata: input.message.metadata } : {}),
    },
    state: { values: {} },
    response_url:
      input.responseUrl ??
      `https://hooks.slack.com/actions/${TEAM_ID}/${Date.now()}/${randomBytes(12).toString("hex")}`,
    actions: [
      {
        type: "button",
        action_id: input.actionId,
        block_id: input.blockId ?? "decision",
        value: input.value,
        text: { type: "plain_text", text: label, emoji: true },
        ...style,
        action_ts: input.actionTs ?? nowTs(),
      },
    ],
  };
}

/** One input's state as Slack reports it: a text input's value or a radio choice. */
export type ViewStateValue =
  | { type: "plain_text_input"; value: string | null }
  | {
      type: "radio_buttons";
      selected_option: { value: string; text?: { type: "plain_text"; text: string } } | null;
    };

export type ViewSubmissionInput = {
  user: PayloadUser;
  callbackId: string;
  privateMetadata: string;
  values: Record<string, Record<string, ViewStateValue>>;
  /** The id views.open returned (e.g. `fake.views[0].id`). */
  viewId?: string;
  triggerId?: string;
  title?: string;
};

/** The `view_submission` payload Slack sends when a modal is submitted. */
export function viewSubmissionPayload(input: ViewSubmissionInput): Record<string, unknown> {
  const user = fullUser(input.user);
  const viewId = input.viewId ?? `V${randomBytes(5).toString("hex").toUpperCase()}`;
  return {
    type: "view_submission",
    team: { id: user.team_id, domain: TEAM_DOMAIN },
    user,
    api_app_id: API_APP_ID,
    token: LEGACY_TOKEN,
    trigger_id: input.triggerId ?? newTriggerId(),
    view: {
      id: viewId,
      team_id: user.team_id,
      type: "modal",
      blocks: [],
      private_metadata: input.privateMetadata,
      callback_id: input.callbackId,
      state: { values: input.values },
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString("hex")}`,
      title: { type: "plain_text", text: input.title ?? "Reject", emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: { type: "plain_text", text: "Submit", emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: API_APP_ID,
      external_id: "",
      app_installed_team_id: user.team_id,
      bot_id: "BBOT",
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** The form body Slack posts for an interaction: `payload=<urlencoded JSON>`. */
export function encodeInteraction(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export type PostToAppOptions = {
  /** Unix seconds for the signature (default now); an old one makes a stale request. */
  timestampSec?: number;
  /** A forged `x-slack-signature`; null sends no signature headers at all. */
  signature?: string | null;
  contentType?: string;
};

export type PostToAppResult = { status: number; body: string; json?: unknown; ms: number };

/**
 * POST an interaction to the app like Slack does. `url` is the app's base URL or its full
 * events URL; a bare base ("http://127.0.0.1:3000") gets `/slack/events` appended.
 */
export async function postToApp(
  url: string,
  signingSecret: string,
  payload: unknown,
  opts: PostToAppOptions = {},
): Promise<PostToAppResult> {
  const target = new URL(url);
  if (target.pathname === "/" || target.pathname === "") target.pathname = "/slack/events";
  const body = encodeInteraction(payload);
  const timestampSec = opts.timestampSec ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    "content-type": opts.contentType ?? "application/x-www-form-urlencoded",
    "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
  };
  if (opts.signature !== null) {
    Object.assign(headers, signSlackRequest(signingSecret, body, timestampSec));
    if (opts.signature !== undefined) headers["x-slack-signature"] = opts.signature;
  }
  const started = performance.now();
  const res = await fetch(target, { method: "POST", headers, body });
  const text = await res.text();
  const ms = performance.now() - started;
  const result: PostToAppResult = { status: res.status, body: text, ms };
  try {
    if (text !== "") result.json = JSON.parse(text);
  } catch {
    // Not JSON (bolt acks with an empty body or plain text); `body` has it.
  }
  return result;
}

/** The form fields Slack POSTs when someone runs a slash command. */
export function slashCommandBody(input: {
  user: PayloadUser;
  command: string;
  text: string;
  channelId: string;
  channelName?: string;
  responseUrl?: string;
}): string {
  const user = fullUser(input.user);
  return new URLSearchParams({
    token: LEGACY_TOKEN,
    team_id: TEAM_ID,
    team_domain: TEAM_DOMAIN,
    channel_id: input.channelId,
    channel_name: input.channelName ?? input.channelId,
    user_id: user.id,
    user_name: user.username,
    command: input.command,
    text: input.text,
    api_app_id: API_APP_ID,
    is_enterprise_install: "false",
    response_url: input.responseUrl ?? "https://hooks.slack.com/commands/T0/1/unused",
    trigger_id: newTriggerId(),
  }).toString();
}

/** The Events API envelope Slack POSTs (as JSON) when a user opens the app's Home tab. */
export function appHomeOpenedEvent(userId: string, dmChannel: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    token: LEGACY_TOKEN,
    team_id: TEAM_ID,
    api_app_id: API_APP_ID,
    type: "event_callback",
    event_id: `Ev${randomBytes(5).toString("hex").toUpperCase()}`,
    event_time: now,
    event: { type: "app_home_opened", user: userId, channel: dmChannel, tab: "home", event_ts: nowTs() },
    authorizations: [{ team_id: TEAM_ID, user_id: BOT_USER_ID, is_bot: true }],
  };
}

/** POSTs an already encoded body (a slash command's form, an event's JSON) to the app, signed. */
export async function postSignedToApp(
  url: string,
  signingSecret: string,
  body: string,
  contentType: "application/x-www-form-urlencoded" | "application/json",
): Promise<PostToAppResult> {
  const target = new URL(url);
  if (target.pathname === "/" || target.pathname === "") target.pathname = "/slack/events";
  const headers = {
    "content-type": contentType,
    "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    ...signSlackRequest(signingSecret, body, Math.floor(Date.now() / 1000)),
  };
  const started = performance.now();
  const res = await fetch(target, { method: "POST", headers, body });
  const text = await res.text();
  const result: PostToAppResult = { status: res.status, body: text, ms: performance.now() - started };
  try {
    if (text !== "") result.json = JSON.parse(text);
  } catch {
    // Not JSON; `body` has it.
  }
  return result;
}
