import type { AppConfig } from "../../config/file.ts";
import type { Ephemeral, SlackMessage, Workspace } from "../../fake-slack/workspace.ts";
import { DEMO_USERGROUPS, type Persona } from "../directory.ts";
import type { Sample } from "../samples.ts";
import { renderBlocks } from "./blocks.ts";
import type { CallbackDelivery } from "./callback-inbox.ts";
import type { Names } from "./mrkdwn.ts";
import { renderMrkdwn, renderPlain } from "./mrkdwn.ts";
import { h, type VNode } from "./vnode.ts";

/** The simulator's regions as element trees: sidebar, channel header, timeline, modal, API calls. */

export type OpenModal = {
  id: string;
  user: string;
  view: Record<string, unknown>;
  errors: Record<string, string>;
};
export type CallEntry = { at: number; method: string; status: number; ok: boolean; error?: string };

export interface ViewContext {
  ws: Workspace;
  config: AppConfig;
  names: Names;
}

export function namesFor(ws: Workspace): Names {
  return {
    user: (id) => ws.user(id)?.name,
    usergroup: (id) => DEMO_USERGROUPS[id]?.handle,
    channel: (id) => ws.channels().find((c) => c.id === id)?.name,
  };
}

const tsMicros = (ts: string): number => {
  const [s, us] = ts.split(".");
  return Number(s) * 1_000_000 + Number(us ?? 0);
};

function timeNode(ms: number, format = "{time}"): VNode {
  const iso = new Date(ms).toISOString();
  return h("time", "cs-date cs-msg-time", { datetime: iso, "data-format": format, title: iso }, [
    `${iso.slice(11, 16)} UTC`,
  ]);
}

/** The pseudo channel id of the app's Home tab in the simulator. */
export const HOME = "HOME";

/** The Home tab countersign last published for the viewer (views.publish). */
export function homeTab(ctx: ViewContext, viewer: string): VNode {
  const view = ctx.ws.home(viewer);
  const blocks = view && Array.isArray(view.blocks) ? view.blocks : [];
  if (blocks.length === 0) {
    return h("div", "cs-timeline-inner cs-home", null, [
      h("div", "cs-empty", null, ["Opening the Home tab: countersign publishes it for whoever opens it…"]),
    ]);
  }
  return h("div", "cs-timeline-inner cs-home", { "data-home": viewer }, [
    h("div", "cs-home-view", null, renderBlocks(blocks, { names: ctx.names })),
  ]);
}

export function sidebar(ctx: ViewContext, active: string, viewer: string): VNode {
  const item = (id: string, label: string, prefix: string): VNode => {
    const count = ctx.ws.messages(id).length + ctx.ws.messages(id).reduce((n, m) => n + m.updates, 0);
    const cls = id === active ? "cs-chan cs-active" : "cs-chan";
    return h(
      "a",
      cls,
      {
        href: `?channel=${encodeURIComponent(id)}&as=${encodeURIComponent(viewer)}`,
        "data-channel": id,
        "data-count": String(count),
      },
      [h("span", "cs-chan-prefix", null, [prefix]), h("span", "cs-chan-name", null, [label])],
    );
  };
  const channels = ctx.ws.channels().filter((c) => c.kind === "channel");
  // As in Slack, a person sees their own direct messages with the app, nobody else's.
  const dms = ctx.ws.channels().filter((c) => c.kind === "dm" && c.user === viewer);
  return h("nav", "cs-nav", null, [
    h("div", "cs-workspace", null, [
      "countersign demo",
      h("span", "cs-workspace-sub", null, ["simulated Slack"]),
    ]),
    h("div", "cs-nav-title", null, ["Apps"]),
    h(
      "a",
      active === HOME ? "cs-chan cs-active" : "cs-chan",
      { href: `?channel=${HOME}&as=${encodeURIComponent(viewer)}`, "data-channel": HOME, "data-count": "0" },
      [h("span", "cs-chan-prefix", null, ["⌂"]), h("span", "cs-chan-name", null, ["countersign · Home"])],
    ),
    h("div", "cs-nav-title", null, ["Channels"]),
    ...channels.map((c) => item(c.id, c.name, "#")),
    h("div", "cs-nav-title", null, ["Direct messages"]),
    ...(dms.length === 0
      ? [h("div", "cs-nav-empty", null, ["none for you: escalations arrive here for the manager"])]
      : dms.map((c) => item(c.id, c.user ? (ctx.ws.user(c.user)?.real_name ?? c.user) : c.name, "●"))),
  ]);
}

/** Channel name and who approves there. */
export function channelHeader(ctx: ViewContext, channel: string): VNode {
  if (channel === HOME) {
    return h("div", "cs-chan-header", null, [
      h("div", "cs-chan-title", null, ["countersign ", h("span", "cs-app-badge", null, ["APP"])]),
      h("div", "cs-chan-about", null, [
        "Home tab: what waits for your decision, as countersign publishes it for the person you are",
      ]),
    ]);
  }
  const info = ctx.ws.channels().find((c) => c.id === channel);
  if (!info) return h("div", "cs-chan-header", null, [h("div", "cs-chan-title", null, ["Pick a channel"])]);
  const mention = (id: string) => `@${ctx.ws.user(id)?.name ?? id}`;
  let about: string;
  if (info.kind === "dm") {
    about = `Direct messages between the countersign app and ${info.user ? mention(info.user) : info.name}`;
  } else {
    const roles = Object.entries(ctx.config.roles).filter(([, r]) => r.channel === channel);
    about =
      roles
        .map(([name, r]) => {
          const who = r.approvers.map(mention);
          if (r.usergroup) who.push(`@${DEMO_USERGROUPS[r.usergroup]?.handle ?? r.usergroup}`);
          const manager = r.escalate_to ? ` · escalates to ${mention(r.escalate_to)}` : "";
          return `role ${name}: ${who.join(", ")}${manager}`;
        })
        .join(" | ") || "no role posts here";
  }
  // A DM with an app is headed by the app's name in Slack, whoever reads it.
  const title =
    info.kind === "dm"
      ? h("div", "cs-chan-title", null, ["countersign ", h("span", "cs-app-badge", null, ["APP"])])
      : h("div", "cs-chan-title", null, [`# ${info.name}`]);
  return h("div", "cs-chan-header", null, [title, h("div", "cs-chan-about", null, [about])]);
}

function messageBody(m: { text: string; blocks: unknown[] | undefined }, ctx: ViewContext): VNode[] {
  if (Array.isArray(m.blocks) && m.blocks.length > 0) return renderBlocks(m.blocks, { names: ctx.names });
  return [h("div", "cs-text", null, renderMrkdwn(m.text, ctx.names))];
}

function meta(ts: string, extra: VNode[] = []): VNode {
  return h("div", "cs-msg-meta", null, [
    h("span", "cs-author", null, ["countersign"]),
    h("span", "cs-app-badge", null, ["APP"]),
    timeNode(tsMicros(ts) / 1000),
    ...extra,
  ]);
}

function message(m: SlackMessage, ctx: ViewContext, replies: VNode[], compact = false): VNode {
  const edited = m.updates > 0 ? [h("span", "cs-edited", null, ["(edited)"])] : [];
  const kids: VNode[] = [
    h("div", "cs-avatar", { "aria-hidden": "true" }, ["✓"]),
    h("div", "cs-msg-body", null, [meta(m.ts, edited), ...messageBody(m, ctx)]),
  ];
  const attrs = { "data-channel": m.channel, "data-ts": m.ts, "data-updates": String(m.updates) };
  const el = h("div", compact ? "cs-msg cs-reply" : "cs-msg", attrs, kids);
  if (replies.length === 0) return el;
  const label = `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`;
  return h("div", "cs-msg-group", null, [
    el,
    h("details", "cs-thread", { open: "", "data-thread": m.ts }, [
      h("summary", "cs-thread-summary", null, [label]),
      ...replies,
    ]),
  ]);
}

function ephemeral(e: Ephemeral, ctx: ViewContext): VNode {
  return h(
    "div",
    "cs-msg cs-ephemeral",
    { "data-channel": e.channel, "data-ts": e.message_ts, "data-ephemeral": "1" },
    [
      h("div", "cs-avatar", { "aria-hidden": "true" }, ["✓"]),
      h("div", "cs-msg-body", null, [
        meta(e.message_ts, [h("span", "cs-only-you", null, ["👁 Only visible to you"])]),
        ...messageBody(e, ctx),
      ]),
    ],
  );
}

/** Top-level messages and the viewer's ephemerals in time order; replies under their parent. */
export function timeline(ctx: ViewContext, channel: string, viewer: string): VNode {
  const dm = ctx.ws.channels().find((c) => c.id === channel && c.kind === "dm");
  if (dm?.user !== undefined && dm.user !== viewer) {
    const owner = ctx.ws.user(dm.user)?.real_name ?? dm.user;
    return h("div", "cs-timeline-inner", null, [
      h("div", "cs-empty", null, [
        `This is ${owner}'s direct message with countersign; only ${owner} sees it in Slack. Pick ${owner} under “You are” to read it.`,
      ]),
    ]);
  }
  const all = ctx.ws.messages(channel);
  const isTop = (m: SlackMessage) => m.thread_ts === undefined || m.thread_ts === m.ts;
  const mine = ctx.ws.ephemerals(channel, viewer);
  const threadOf = (ts: string): VNode[] =>
    [
      ...all
        .filter((m) => !isTop(m) && m.thread_ts === ts)
        .map((m) => ({ ts: m.ts, node: message(m, ctx, [], true) })),
      ...mine.filter((e) => e.thread_ts === ts).map((e) => ({ ts: e.message_ts, node: ephemeral(e, ctx) })),
    ]
      .sort((a, b) => tsMicros(a.ts) - tsMicros(b.ts))
      .map((x) => x.node);
  const tops = new Set(all.filter(isTop).map((m) => m.ts));
  const items = [
    ...all.filter(isTop).map((m) => ({ ts: m.ts, node: message(m, ctx, threadOf(m.ts)) })),
    ...mine
      .filter((e) => e.thread_ts === undefined || !tops.has(e.thread_ts))
      .map((e) => ({ ts: e.message_ts, node: ephemeral(e, ctx) })),
  ].sort((a, b) => tsMicros(a.ts) - tsMicros(b.ts));
  if (items.length === 0) {
    return h("div", "cs-timeline-inner", null, [
      h("div", "cs-empty", null, [
        "No messages yet. ",
        h("a", null, { href: "#samples" }, ["Send a sample request"]),
        " as an agent would, and its evidence pack appears here.",
      ]),
    ]);
  }
  return h(
    "div",
    "cs-timeline-inner",
    null,
    items.map((i) => i.node),
  );
}

/** A modal like Slack's: title, blocks (inputs with their inline errors), Cancel and Submit. */
export function modal(ctx: ViewContext, open: OpenModal | undefined): VNode | null {
  if (!open) return null;
  const v = open.view;
  const label = (x: unknown, fallback: string): VNode[] => {
    const text = typeof x === "object" && x !== null ? (x as { text?: unknown }).text : undefined;
    return renderPlain(typeof text === "string" ? text : fallback, true);
  };
  const blocks = Array.isArray(v.blocks) ? v.blocks : [];
  return h("div", "cs-backdrop", null, [
    h("div", "cs-modal", { role: "dialog", "aria-modal": "true", "data-view-id": open.id }, [
      h("div", "cs-modal-header", null, [
        h("div", "cs-modal-title", null, label(v.title, "Modal")),
        h("button", "cs-modal-x", { type: "button", "data-modal": "close", "aria-label": "Close" }, ["×"]),
      ]),
      h("div", "cs-modal-body", null, renderBlocks(blocks, { names: ctx.names, errors: open.errors })),
      h("div", "cs-modal-footer", null, [
        h(
          "button",
          "cs-btn cs-btn-default",
          { type: "button", "data-modal": "close" },
          label(v.close, "Cancel"),
        ),
        ...(v.submit === undefined || v.submit === null
          ? []
          : [
              h(
                "button",
                "cs-btn cs-btn-primary",
                { type: "button", "data-modal": "submit" },
                label(v.submit, "Submit"),
              ),
            ]),
      ]),
    ]),
  ]);
}

export function callLog(calls: readonly CallEntry[]): VNode {
  if (calls.length === 0) return h("div", "cs-calls-empty", null, ["No Slack Web API calls yet."]);
  return h(
    "ol",
    "cs-calls",
    null,
    calls
      .slice(-12)
      .reverse()
      .map((c) =>
        h("li", c.ok ? "cs-call" : "cs-call cs-call-failed", null, [
          timeNode(c.at, "{time_secs}"),
          " ",
          h("code", null, null, [c.method]),
          ` → ${c.ok ? "ok" : (c.error ?? `HTTP ${c.status}`)}`,
        ]),
      ),
  );
}

export function personaSelect(personas: readonly Persona[], selected: string): VNode {
  const groups = [...new Set(personas.map((p) => p.group))];
  return h(
    "select",
    "cs-persona",
    { id: "persona", name: "as", "aria-label": "Who you are" },
    groups.map((g) =>
      h(
        "optgroup",
        null,
        { label: g === "others" ? "others" : `role ${g}` },
        personas
          .filter((p) => p.group === g)
          .map((p) =>
            h("option", null, p.id === selected ? { value: p.id, selected: "" } : { value: p.id }, [p.label]),
          ),
      ),
    ),
  );
}

export function samplePanel(samples: readonly Sample[]): VNode {
  return h("div", "cs-samples", null, [
    ...samples.map((s) =>
      h("button", "cs-sample", { type: "button", "data-sample": s.id }, [
        h("span", "cs-sample-label", null, [s.label]),
        h("span", "cs-sample-expect", null, [s.expect]),
      ]),
    ),
  ]);
}

/** The demo's callback receiver: each delivery, newest first, with its signature check. */
export function callbackLog(deliveries: readonly CallbackDelivery[]): VNode {
  if (deliveries.length === 0) {
    return h("div", "cs-calls-empty", null, [
      "No callbacks yet. A decided request with a callback_url is delivered here, signed.",
    ]);
  }
  return h(
    "ol",
    "cs-calls cs-callbacks",
    null,
    deliveries
      .slice(-8)
      .reverse()
      .map((d) => {
        const ok = d.check === "verified";
        return h(
          "li",
          ok ? "cs-call cs-callback" : "cs-call cs-callback cs-call-failed",
          { "data-request": d.requestId ?? "", "data-check": d.check },
          [
            timeNode(d.at, "{time_secs}"),
            " ",
            h("span", ok ? "cs-check cs-ok" : "cs-check cs-bad", null, [
              ok ? "✓ signature verified" : `✗ ${d.check}`,
            ]),
            " ",
            h("code", null, null, [d.type ?? "?"]),
            ok ? ` → ${d.agent}: ${d.status ?? "?"} (${d.resolution ?? "?"})` : ` → ${d.agent}`,
            h("div", "cs-call-id", null, [
              d.requestId ?? "",
              d.webhookId === "" ? "" : ` · webhook-id ${d.webhookId}`,
            ]),
          ],
        );
      }),
  );
}
