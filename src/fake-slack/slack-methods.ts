/**
 * The fake's Web API methods: validate arguments the way Slack does, then change the
 * workspace. Pure request → response; HTTP, faults and recording live in `slack-api.ts`.
 */
import { BOT_ID, BOT_USER_ID, type SlackMessage, TEAM_DOMAIN, TEAM_ID, type Workspace } from "./workspace.ts";

export type ApiResponse = { ok: boolean; error?: string; [key: string]: unknown };

export type MethodContext = {
  ws: Workspace;
  /** Extra Block Kit checks (e.g. the renderer's validateMessage); each string is one problem. */
  validateBlocks?: ((blocks: unknown[]) => string[]) | undefined;
};

export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_VIEW_BLOCKS = 100;
export const MAX_VIEW_TITLE = 24;
const MAX_TEXT = 40_000;
const JSON_FIELDS = ["blocks", "view", "metadata", "attachments"] as const;

/** Decode the fields web-api sends JSON-encoded inside a form body; others stay as sent. */
export function decodeArgs(raw: Record<string, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = { ...raw };
  for (const key of JSON_FIELDS) {
    const value = args[key];
    if (typeof value !== "string") continue;
    try {
      args[key] = JSON.parse(value);
    } catch {
      // Left as a string: the method answers invalid_blocks / invalid_arguments.
    }
  }
  return args;
}

const fail = (error: string, extra: Record<string, unknown> = {}): ApiResponse => ({
  ok: false,
  error,
  ...extra,
});

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function problems(error: string, errors: string[]): ApiResponse {
  return fail(error, { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
}

/** Slack's own shape checks, then the optional validator. Null when the blocks are fine. */
export function checkBlocks(
  blocks: unknown,
  max: number,
  validate?: (blocks: unknown[]) => string[],
): ApiResponse | null {
  if (!Array.isArray(blocks)) return problems("invalid_blocks", ["blocks must be a JSON array"]);
  const errors: string[] = [];
  if (blocks.length > max) errors.push(`no more than ${max} items allowed [json-pointer:/blocks]`);
  blocks.forEach((block, i) => {
    const isObject = typeof block === "object" && block !== null && !Array.isArray(block);
    if (!isObject || typeof (block as { type?: unknown }).type !== "string") {
      errors.push(`missing required field: type [json-pointer:/blocks/${i}]`);
    }
  });
  if (errors.length > 0) return problems("invalid_blocks", errors);
  const found = validate ? validate(blocks) : [];
  if (found.length === 0) return null;
  const tooLong = found.some((p) => /total|12[,_ ]?000/i.test(p) && /text|char|long/i.test(p));
  return problems(tooLong ? "msg_blocks_too_long" : "invalid_blocks", found);
}

function toSlackMessage(m: SlackMessage): Record<string, unknown> {
  return {
    type: "message",
    user: m.user,
    bot_id: BOT_ID,
    team: TEAM_ID,
    text: m.text,
    ts: m.ts,
    ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
    ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts } : {}),
    ...(m.metadata !== undefined ? { metadata: m.metadata } : {}),
  };
}

/** text/blocks as chat.* takes them: `no_text` when neither, block problems when blocks are bad. */
function content(
  ctx: MethodContext,
  args: Record<string, unknown>,
  requireOne: boolean,
): { text?: string; blocks?: unknown[] } | ApiResponse {
  const text = str(args.text);
  const hasBlocks = args.blocks !== undefined && args.blocks !== "";
  if (hasBlocks) {
    const bad = checkBlocks(args.blocks, MAX_MESSAGE_BLOCKS, ctx.validateBlocks);
    if (bad) return bad;
  }
  const blocks = hasBlocks ? (args.blocks as unknown[]) : undefined;
  if (requireOne && !text && (blocks === undefined || blocks.length === 0)) return fail("no_text");
  return {
    ...(text !== undefined ? { text: text.slice(0, MAX_TEXT) } : {}),
    ...(blocks !== undefined ? { blocks } : {}),
  };
}

const isFailure = (v: object): v is ApiResponse => "ok" in v;

function postMessage(ctx: MethodContext, args: Record<string, unknown>): ApiResponse {
  const channel = ctx.ws.resolveChannel(str(args.channel) ?? "");
  if (channel === null) return fail("channel_not_found");
  const body = content(ctx, args, true);
  if (isFailure(body)) return body;
  const threadTs = str(args.thread_ts);
  if (threadTs !== undefined && threadTs !== "" && !ctx.ws.message(channel, threadTs)) {
    return fail("thread_not_found");
  }
  const message = ctx.ws.post({
    channel,
    text: body.text ?? "",
    blocks: body.blocks,
    ...(threadTs ? { thread_ts: threadTs } : {}),
    ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
  });
  return { ok: true, channel, ts: message.ts, message: toSlackMessage(message) };
}

/** Slack's permalink format: the workspace URL, the channel, "p" and the ts without its dot. */
function getPermalink(ctx: MethodContext, args: Record<string, unknown>): ApiResponse {
  const channel = ctx.ws.resolveChannel(str(args.channel) ?? "");
  if (channel === null) return fail("channel_not_found");
  const ts = str(args.message_ts) ?? "";
  if (!ctx.ws.message(channel, ts)) return fail("message_not_found");
  return {
    ok: true,
    channel,
    permalink: `https://${TEAM_DOMAIN}.slack.com/archives/${channel}/p${ts.replace(".", "")}`,
  };
}

function update(ctx: MethodContext, args: Record<string, unknown>): ApiResponse {
  const channel = ctx.ws.resolveChannel(str(args.channel) ?? "");
  if (channel === null) return fail("channel_not_found");
  const ts = str(args.ts) ?? "";
  if (!ctx.ws.message(channel, ts)) return fail("message_not_found");
  const body = content(ctx, args, true);
  if (isFailure(body)) return body;
  const message = ctx.ws.update(channel, ts, body)!;
  return { ok: true, channel, ts, text: message.text, message: toSlackMessage(message) };
}

function postEphemeral(ctx: MethodContext, args: Record<string, unknown>): ApiResponse {
  const channel = ctx.ws.resolveChannel(str(args.channel) ?? "");
  if (channel === null) return fail("channel_not_found");
  const user = str(args.user);
  if (!user || !ctx.ws.user(user)) return fail("user_not_found");
  const body = content(ctx, args, true);
  if (isFailure(body)) return body;
  const threadTs = str(args.thread_ts);
  const e = ctx.ws.postEphemeral({
    channel,
    user,
    text: body.text ?? "",
    blocks: body.blocks,
    ...(threadTs ? { thread_ts: threadTs } : {}),
  });
  return { ok: true, message_ts: e.message_ts };
}

/**
 * Messages of a channel, newest first, from `oldest` on (exclusive, as Slack), at most `limit`.
 * Metadata only with `include_all_metadata`, as Slack. Thread replies are listed
 * too (Slack lists the broadcast ones; countersign broadcasts every reply it looks for).
 */
function conversationsHistory(ctx: MethodContext, args: Record<string, unknown>): ApiResponse {
  const channel = ctx.ws.resolveChannel(str(args.channel) ?? "");
  if (channel === null) return fail("channel_not_found");
  const oldest = Number(str(args.oldest) ?? "0");
  const limit = Math.min(1000, Math.max(1, Number(str(args.limit) ?? "100") || 100));
  const metadata = args.include_all_metadata === true || str(args.include_all_metadata) === "true";
  const messages = ctx.ws
    .messages(channel)
    .filter((m) => Number(m.ts) > oldest)
    .reverse()
    .slice(0, limit)
    .map((m) => {
      const { metadata: _hidden, ...rest } = toSlackMessage(m);
      return metadata ? toSlackMessage(m) : rest;
    });
  return { ok: true, messages, has_more: false };
}

function conversationsOpen(ctx: MethodContext, args: Record<string, unknown>): ApiResponse {
  const users = (str(args.users) ?? "").split(",").filter((u) => u !== "");
  if (users.length === 0) return fail("users_list_not_supplied");
  // Group DMs are not something this app does; refuse rather than fake them badly.
  if (users.length > 1) return fail("not_supported");
  const user = users[0]!;
  if (!ctx.ws.user(user)) return fail("user_not_found");
  const dm = ctx.ws.openDm(user);
  return { ok: true, ...(dm.alreadyOpen ? { no_op: true, already_open: true } : {}), channel: { id: dm.id } };
}

function viewProblems(view: unknown): string[] {
  if (typeof view !== "object" || view === null || Array.isArray(view)) return ["view must be a JSON object"];
  const v = view as Record<string, unknown>;
  const errors: string[] = [];
  if (v.type !== "modal") errors.push("must be modal [json-pointer:/view/type]");
  const cb = v.callback_id;
  if (typeof cb !== "string" || cb === "" || cb.length > 255) {
    errors.push("callback_id must be a string of 1-255 characters [json-pointer:/view/callback_id]");
  }
  const title = v.title as { type?: unknown; text?: unknown } | undefined;
  if (title?.type !== "plain_text" || typeof title.text !== "string" || title.text === "") {
    errors.push("missing required field: title [json-pointer:/view/title]");
  } else if (title.text.length > MAX_VIEW_TITLE) {
    errors.push(`must be less than ${MAX_VIEW_TITLE + 1} characters [json-pointer:/view/title/text]`);
  }
  const pm = v.private_metadata;
  if (pm !== undefined && (typeof pm !== "string" || pm.length > 3000)) {
    errors.push("must be less than 3001 characters [json-pointer:/view/private_metadata]");
  }
  const blocks = checkBlocks(v.blocks, MAX_VIEW_BLOCKS);
  if (blocks)
    errors.push(...((blocks.errors as string[]) ?? []).map((e) => e.replace("/blocks", "/view/blocks")));
  const hasInput =
    Array.isArray(v.blocks) && v.blocks.some((b) => (b as { type?: unknown })?.type === "input");
  if (hasInput && v.submit === undefined)
    errors.push("submit is required with input blocks [json-pointer:/view/submit]");
  return errors;
}

function viewsPublish(ctx: MethodContext, args: Record<string, unknown>): ApiResponse {
  const user = str(args.user_id);
  if (!user) return fail("invalid_arguments");
  const view = args.view as Record<string, unknown> | undefined;
  if (view?.type !== "home" || !Array.isArray(view.blocks)) return fail("invalid_arguments");
  if (view.blocks.length > 100) return fail("invalid_blocks");
  ctx.ws.publishHome(user, view);
  return { ok: true, view: { ...view, id: `VHOME${user}` } };
}

function viewsOpen(ctx: MethodContext, args: Record<string, unknown>): ApiResponse {
  const trigger = str(args.trigger_id);
  if (!trigger) return fail("invalid_trigger_id");
  if (ctx.ws.triggerUsed(trigger)) return fail("exchanged_trigger_id");
  const errors = viewProblems(args.view);
  if (errors.length > 0) return problems("invalid_arguments", errors);
  const v = args.view as Record<string, unknown>;
  const opened = ctx.ws.openView(trigger, v);
  const view = {
    id: opened.id,
    team_id: TEAM_ID,
    type: v.type,
    callback_id: v.callback_id,
    private_metadata: v.private_metadata ?? "",
    title: v.title,
    blocks: v.blocks,
    submit: v.submit ?? null,
    close: v.close ?? null,
    state: { values: {} },
    hash: `${Math.floor(opened.at / 1000)}.${opened.id}`,
    root_view_id: opened.id,
    previous_view_id: null,
    bot_id: BOT_ID,
  };
  return { ok: true, view };
}

function usersInfo(ctx: MethodContext, args: Record<string, unknown>): ApiResponse {
  const user = ctx.ws.user(str(args.user) ?? "");
  if (!user) return fail("user_not_found");
  return {
    ok: true,
    user: {
      id: user.id,
      team_id: TEAM_ID,
      name: user.name,
      real_name: user.real_name,
      deleted: false,
      is_bot: false,
      profile: { display_name: user.name, real_name: user.real_name },
    },
  };
}

function usergroupUsers(ctx: MethodContext, args: Record<string, unknown>): ApiResponse {
  const users = ctx.ws.usergroup(str(args.usergroup) ?? "");
  return users ? { ok: true, users } : fail("no_such_subteam");
}

const authTest = (): ApiResponse => ({
  ok: true,
  url: `https://${TEAM_DOMAIN}.slack.com/`,
  team: "Countersign Test",
  user: "countersign",
  team_id: TEAM_ID,
  user_id: BOT_USER_ID,
  bot_id: BOT_ID,
  is_enterprise_install: false,
});

const METHODS: Record<string, (ctx: MethodContext, args: Record<string, unknown>) => ApiResponse> = {
  "auth.test": authTest,
  "chat.postMessage": postMessage,
  "chat.update": update,
  "chat.getPermalink": getPermalink,
  "chat.postEphemeral": postEphemeral,
  "conversations.open": conversationsOpen,
  "conversations.history": conversationsHistory,
  "views.open": viewsOpen,
  "views.publish": viewsPublish,
  "users.info": usersInfo,
  "usergroups.users.list": usergroupUsers,
};

export const SUPPORTED_METHODS = Object.keys(METHODS);

/** Answer one Web API call; args are already decoded (see decodeArgs). */
export function callMethod(ctx: MethodContext, method: string, args: Record<string, unknown>): ApiResponse {
  const handler = METHODS[method];
  return handler ? handler(ctx, args) : fail("unknown_method", { req_method: method });
}
