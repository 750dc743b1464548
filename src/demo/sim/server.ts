import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { AppConfig } from "../../config/file.ts";
import type { ExtraRoute, FakeSlack } from "../../sim/slack-api.ts";
import {
  blockActionsPayload,
  newTriggerId,
  postToApp,
  viewSubmissionPayload,
} from "../../sim/slack-requests.ts";
import type { WorkspaceChange } from "../../sim/workspace.ts";
import type { Persona } from "../directory.ts";
import type { Sample } from "../samples.ts";
import { renderPage } from "./page.ts";
import {
  type CallEntry,
  callLog,
  channelHeader,
  modal,
  namesFor,
  type OpenModal,
  personaSelect,
  samplePanel,
  sidebar,
  timeline,
  type ViewContext,
} from "./views.ts";

/**
 * The simulator page on the fake Slack's port: `/sim` (HTML), `/sim/state` (the
 * regions as JSON element trees), `/sim/events` (Server-Sent Events on every
 * workspace change), and the actions a person takes: clicking a button (a signed
 * block_actions to countersign), submitting a modal (a signed view_submission),
 * sending a sample request through the agent API.
 */

export interface SimulatorOptions {
  fake: FakeSlack;
  config: AppConfig;
  /** countersign's base URL, e.g. http://127.0.0.1:3000. */
  appUrl: string;
  signingSecret: string;
  personas: readonly Persona[];
  samples: readonly Sample[];
}

export interface Simulator {
  route: ExtraRoute;
  close(): void;
}

const STATIC: Record<string, { file: string; type: string }> = {
  "/sim/sim.js": { file: "sim.js", type: "text/javascript; charset=utf-8" },
  "/sim/sim.css": { file: "sim.css", type: "text/css; charset=utf-8" },
};
const PUBLIC_DIR = new URL("../public/", import.meta.url);
const MAX_BODY = 64 * 1024;

const userId = z.string().regex(/^[UW][A-Z0-9]{2,40}$/);
const clickSchema = z.object({
  as: userId,
  channel: z.string().min(1).max(40),
  ts: z.string().min(1).max(40),
  actionId: z.enum(["approve", "reject"]),
  value: z.string().max(2000),
  blockId: z.string().max(255).optional(),
});
const submitSchema = z.object({
  as: userId,
  viewId: z.string().min(1).max(40),
  values: z.record(z.string(), z.record(z.string(), z.string().max(10_000))),
});
const closeSchema = z.object({ viewId: z.string().min(1).max(40) });
const sampleSchema = z.object({ id: z.string().min(1).max(100) });

export function createSimulator(opts: SimulatorOptions): Simulator {
  const { fake, config } = opts;
  const ws = fake.workspace;
  const ctx: ViewContext = { ws, config, names: namesFor(ws) };
  const tokens = new Map(config.agents.map((a) => [a.id, a.token]));
  const assets = new Map(
    Object.entries(STATIC).map(([path, s]) => [
      path,
      { body: readFileSync(new URL(s.file, PUBLIC_DIR)), type: s.type },
    ]),
  );
  const firstChannel = ws.channels()[0]?.id ?? "";
  const defaultViewer = opts.personas[0]?.id ?? "U0STRANGER";

  /** Reject clicks made here, by trigger_id, so the modal countersign opens goes to whoever clicked. */
  const triggers = new Map<string, string>();
  const modals = new Map<string, OpenModal>();
  const calls: CallEntry[] = [];
  const clients = new Set<ServerResponse>();

  const broadcast = (change: { type: string }) => {
    const frame = `event: change\ndata: ${JSON.stringify({ type: change.type })}\n\n`;
    for (const res of clients) res.write(frame);
  };
  const unsubscribe = fake.onChange((change: WorkspaceChange) => {
    if (change.type === "api_call") {
      calls.push({
        at: ws.now(),
        method: change.method,
        status: change.status,
        ok: change.ok,
        ...(change.error ? { error: change.error } : {}),
      });
      if (calls.length > 50) calls.splice(0, calls.length - 50);
    }
    if (change.type === "view_opened") {
      const opened = fake.views.find((v) => v.id === change.id);
      const user = opened ? triggers.get(opened.trigger_id) : undefined;
      if (opened && user) {
        triggers.delete(opened.trigger_id);
        modals.set(opened.id, { id: opened.id, user, view: opened.view, errors: {} });
      }
    }
    if (change.type === "reset") modals.clear();
    broadcast(change);
  });
  const heartbeat = setInterval(() => {
    for (const res of clients) res.write(": keep-alive\n\n");
  }, 15_000);
  heartbeat.unref();

  const modalFor = (viewer: string): OpenModal | undefined =>
    [...modals.values()].filter((m) => m.user === viewer).at(-1);

  const regions = (channel: string, viewer: string) => {
    const open = modalFor(viewer);
    return {
      channel,
      viewer,
      sidebar: sidebar(ctx, channel),
      header: channelHeader(ctx, channel),
      timeline: timeline(ctx, channel, viewer),
      modal: modal(ctx, open),
      modalKey: open ? `${open.id}:${JSON.stringify(open.errors)}` : null,
      calls: callLog(calls),
    };
  };

  const viewFromQuery = (url: URL) => {
    const channel = url.searchParams.get("channel") ?? "";
    const as = url.searchParams.get("as") ?? "";
    return {
      channel: ws.channels().some((c) => c.id === channel) ? channel : firstChannel,
      viewer: userId.safeParse(as).success ? as : defaultViewer,
    };
  };

  async function click(input: z.infer<typeof clickSchema>) {
    const message = ws.message(input.channel, input.ts);
    if (!message) return { status: 404, body: { error: "no such message" } };
    const user = ws.user(input.as);
    const triggerId = newTriggerId();
    if (input.actionId === "reject") triggers.set(triggerId, input.as);
    const payload = blockActionsPayload({
      user: {
        id: input.as,
        username: user?.name ?? input.as.toLowerCase(),
        name: user?.name ?? input.as.toLowerCase(),
      },
      actionId: input.actionId,
      value: input.value,
      channelId: input.channel,
      messageTs: input.ts,
      isDm: input.channel.startsWith("D"),
      triggerId,
      ...(input.blockId ? { blockId: input.blockId } : {}),
      message: { text: message.text, ...(message.blocks ? { blocks: message.blocks } : {}) },
    });
    const res = await postToApp(`${opts.appUrl}/slack/events`, opts.signingSecret, payload);
    return { status: 200, body: { appStatus: res.status } };
  }

  async function submit(input: z.infer<typeof submitSchema>) {
    const open = modals.get(input.viewId);
    if (!open || open.user !== input.as) return { status: 404, body: { error: "no such modal" } };
    const user = ws.user(input.as);
    const values: Record<string, Record<string, { type: "plain_text_input"; value: string | null }>> = {};
    for (const [block, actions] of Object.entries(input.values)) {
      values[block] = Object.fromEntries(
        Object.entries(actions).map(([action, value]) => [
          action,
          { type: "plain_text_input" as const, value: value === "" ? null : value },
        ]),
      );
    }
    const title = (open.view.title as { text?: unknown } | undefined)?.text;
    const payload = viewSubmissionPayload({
      user: {
        id: input.as,
        username: user?.name ?? input.as.toLowerCase(),
        name: user?.name ?? input.as.toLowerCase(),
      },
      callbackId: String(open.view.callback_id ?? ""),
      privateMetadata: String(open.view.private_metadata ?? ""),
      values,
      viewId: open.id,
      ...(typeof title === "string" ? { title } : {}),
    });
    const res = await postToApp(`${opts.appUrl}/slack/events`, opts.signingSecret, payload);
    const answer = z
      .object({ response_action: z.literal("errors"), errors: z.record(z.string(), z.string()) })
      .safeParse(res.json);
    if (answer.success) open.errors = answer.data.errors;
    else if (res.status === 200) modals.delete(open.id);
    broadcast({ type: "modal" });
    return {
      status: 200,
      body: { appStatus: res.status, errors: answer.success ? answer.data.errors : null },
    };
  }

  async function sendSample(id: string) {
    const sample = opts.samples.find((s) => s.id === id);
    const token = sample ? tokens.get(sample.agent) : undefined;
    if (!sample || token === undefined) return { status: 404, body: { error: "no such sample" } };
    const res = await fetch(`${opts.appUrl}/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(sample.body),
    });
    const json = parseJson(await res.text());
    const requestId = (json as { id?: unknown } | null)?.id;
    const curl =
      typeof requestId === "string"
        ? `curl -s '${opts.appUrl}/v1/requests/${requestId}?wait=30' -H 'Authorization: Bearer ${token}'`
        : null;
    return {
      status: 200,
      body: {
        sample: sample.id,
        agent: sample.agent,
        method: "POST",
        path: "/v1/requests",
        request: sample.body,
        status: res.status,
        json,
        curl,
      },
    };
  }

  /** GET /v1/requests/:id with a demo agent's token, so a plain link can show the resource. */
  async function proxyGet(res: ServerResponse, id: string, url: URL) {
    const agent = url.searchParams.get("agent") ?? "";
    const token = tokens.get(agent) ?? config.agents[0]?.token ?? "";
    const wait = url.searchParams.get("wait");
    const query = wait !== null && /^[0-9]{1,2}$/.test(wait) ? `?wait=${wait}` : "";
    const upstream = await fetch(`${opts.appUrl}/v1/requests/${encodeURIComponent(id)}${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const json = parseJson(await upstream.text());
    res.writeHead(upstream.status, { "content-type": "application/json; charset=utf-8" });
    res.end(`${JSON.stringify(json, null, 2)}\n`);
  }

  const route: ExtraRoute = async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (path === "/" && method === "GET") {
      res.writeHead(302, { location: "/sim" }).end();
      return true;
    }
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
      return true;
    }
    if (path !== "/sim" && !path.startsWith("/sim/")) return false;
    const asset = assets.get(path);
    if (asset && method === "GET") {
      res.writeHead(200, { "content-type": asset.type, "cache-control": "no-cache" }).end(asset.body);
      return true;
    }
    if ((path === "/sim" || path === "/sim/") && method === "GET") {
      const { channel, viewer } = viewFromQuery(url);
      const r = regions(channel, viewer);
      const html = renderPage({
        ...r,
        persona: personaSelect(opts.personas, viewer),
        samples: samplePanel(opts.samples),
        apiBase: opts.appUrl,
      });
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS }).end(html);
      return true;
    }
    if (path === "/sim/state" && method === "GET") {
      const { channel, viewer } = viewFromQuery(url);
      return sendJson(res, 200, regions(channel, viewer));
    }
    if (path === "/sim/events" && method === "GET") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      res.write(": connected\n\n");
      clients.add(res);
      req.on("close", () => clients.delete(res));
      return true;
    }
    const requestMatch = /^\/sim\/requests\/([A-Za-z0-9_-]{1,100})$/.exec(path);
    if (requestMatch && method === "GET") {
      await proxyGet(res, requestMatch[1] ?? "", url);
      return true;
    }
    if (method !== "POST") return sendJson(res, 404, { error: "not found" });
    const body = await readJson(req);
    if (body === undefined) return sendJson(res, 400, { error: "expected a JSON body" });
    const handle = async (): Promise<{ status: number; body: unknown }> => {
      switch (path) {
        case "/sim/click": {
          const input = clickSchema.safeParse(body);
          return input.success ? click(input.data) : invalid(input.error);
        }
        case "/sim/submit": {
          const input = submitSchema.safeParse(body);
          return input.success ? submit(input.data) : invalid(input.error);
        }
        case "/sim/close": {
          const input = closeSchema.safeParse(body);
          if (!input.success) return invalid(input.error);
          modals.delete(input.data.viewId);
          broadcast({ type: "modal" });
          return { status: 200, body: { ok: true } };
        }
        case "/sim/sample": {
          const input = sampleSchema.safeParse(body);
          return input.success ? sendSample(input.data.id) : invalid(input.error);
        }
        default:
          return { status: 404, body: { error: "not found" } };
      }
    };
    const out = await handle();
    return sendJson(res, out.status, out.body);
  };

  return {
    route,
    close() {
      unsubscribe();
      clearInterval(heartbeat);
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
};

const invalid = (error: z.ZodError) => ({
  status: 400,
  body: {
    error: "invalid",
    issues: error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
  },
});

function sendJson(res: ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
  return true;
}

function parseJson(text: string): unknown {
  try {
    return text === "" ? null : JSON.parse(text);
  } catch {
    return text;
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  const parsed = parseJson(Buffer.concat(chunks).toString("utf8"));
  return typeof parsed === "object" && parsed !== null ? parsed : undefined;
}
