import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { z } from "zod";
import type { AppConfig } from "../../config/file.ts";
import type { ExtraRoute, FakeSlack } from "../../fake-slack/slack-api.ts";
import type { WorkspaceChange } from "../../fake-slack/workspace.ts";
import type { Persona } from "../directory.ts";
import type { Sample } from "../samples.ts";
import { createAgentCalls } from "./agent-calls.ts";
import { createCallbackInbox } from "./callback-inbox.ts";
import { type Answer, invalid, readJson, sendJson } from "./http.ts";
import {
  clickSchema,
  closeSchema,
  commandSchema,
  createInteractions,
  homeSchema,
  submitSchema,
  userIdSchema,
} from "./interactions.ts";
import { renderPage } from "./page.ts";
import {
  type CallEntry,
  callbackLog,
  callLog,
  channelHeader,
  HOME,
  homeTab,
  modal,
  namesFor,
  personaSelect,
  samplePanel,
  sidebar,
  timeline,
  type ViewContext,
} from "./views.ts";

/**
 * The simulator page on the fake Slack's port: `/sim` (HTML), `/sim/state` (the
 * regions as JSON element trees), `/sim/events` (Server-Sent Events on every
 * workspace change), the static script and stylesheet, and the POST endpoints
 * for what a person does (click, submit, close, send a sample).
 */

export interface SimulatorOptions {
  fake: FakeSlack;
  config: AppConfig;
  /** countersign's base URL, e.g. http://127.0.0.1:3000. */
  appUrl: string;
  signingSecret: string;
  /** Deliver interactions over the fake's Socket Mode WebSocket instead of signed HTTP posts. */
  socketMode?: boolean;
  /** The simulator's own base URL (http://127.0.0.1:PORT): sample requests ask for callbacks here. */
  simBase: string;
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
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
};
const sampleSchema = z.object({ id: z.string().min(1).max(100) });
const KEPT_CALLS = 50;

export function createSimulator(opts: SimulatorOptions): Simulator {
  const { fake, config } = opts;
  const ws = fake.workspace;
  const ctx: ViewContext = { ws, config, names: namesFor(ws) };
  const assets = new Map(
    Object.entries(STATIC).map(([path, s]) => [
      path,
      { body: readFileSync(new URL(s.file, PUBLIC_DIR)), type: s.type },
    ]),
  );
  const firstChannel = ws.channels()[0]?.id ?? "";
  const defaultViewer = opts.personas[0]?.id ?? "U0STRANGER";
  const calls: CallEntry[] = [];
  const clients = new Set<ServerResponse>();

  const broadcast = (type: string) => {
    const frame = `event: change\ndata: ${JSON.stringify({ type })}\n\n`;
    for (const res of clients) res.write(frame);
  };
  const interactions = createInteractions({
    fake,
    appUrl: opts.appUrl,
    signingSecret: opts.signingSecret,
    socketMode: opts.socketMode === true,
    changed: () => broadcast("modal"),
  });
  const inbox = createCallbackInbox({
    secrets: new Map(
      config.agents.flatMap((a) => (a.callback_secret === null ? [] : [[a.id, a.callback_secret] as const])),
    ),
    now: () => ws.now(),
    changed: () => broadcast("callback"),
  });
  const agent = createAgentCalls({
    config,
    appUrl: opts.appUrl,
    samples: opts.samples,
    callbackUrl: (agentId) => `${opts.simBase}/sim/callbacks/${agentId}`,
  });

  const unsubscribe = fake.onChange((change: WorkspaceChange) => {
    if (change.type === "api_call") {
      const { method, status, ok, error } = change;
      calls.push({ at: ws.now(), method, status, ok, ...(error ? { error } : {}) });
      if (calls.length > KEPT_CALLS) calls.splice(0, calls.length - KEPT_CALLS);
    }
    interactions.observe(change);
    broadcast(change.type);
  });
  const heartbeat = setInterval(() => {
    for (const res of clients) res.write(": keep-alive\n\n");
  }, 15_000);
  heartbeat.unref();

  /** Everything on the page that changes, for one channel as seen by one person. */
  const regions = (channel: string, viewer: string) => {
    const open = interactions.modalFor(viewer);
    return {
      channel,
      viewer,
      sidebar: sidebar(ctx, channel, viewer),
      header: channelHeader(ctx, channel),
      timeline: channel === HOME ? homeTab(ctx, viewer) : timeline(ctx, channel, viewer),
      modal: modal(ctx, open),
      modalKey: open ? `${open.id}:${JSON.stringify(open.errors)}` : null,
      calls: callLog(calls),
      callbacks: callbackLog(inbox.deliveries()),
    };
  };

  const viewFromQuery = (url: URL) => {
    const channel = url.searchParams.get("channel") ?? "";
    const as = url.searchParams.get("as") ?? "";
    return {
      channel: channel === HOME || ws.channels().some((c) => c.id === channel) ? channel : firstChannel,
      viewer: userIdSchema.safeParse(as).success ? as : defaultViewer,
    };
  };

  const openEvents = (req: Parameters<ExtraRoute>[0], res: ServerResponse) => {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    res.write(": connected\n\n");
    clients.add(res);
    req.on("close", () => clients.delete(res));
  };

  async function action(path: string, body: unknown): Promise<Answer> {
    switch (path) {
      case "/sim/click": {
        const input = clickSchema.safeParse(body);
        return input.success ? interactions.click(input.data) : invalid(input.error);
      }
      case "/sim/submit": {
        const input = submitSchema.safeParse(body);
        return input.success ? interactions.submit(input.data) : invalid(input.error);
      }
      case "/sim/close": {
        const input = closeSchema.safeParse(body);
        if (!input.success) return invalid(input.error);
        interactions.close(input.data.viewId);
        return { status: 200, body: { ok: true } };
      }
      case "/sim/home": {
        const input = homeSchema.safeParse(body);
        return input.success ? interactions.openHome(input.data) : invalid(input.error);
      }
      case "/sim/command": {
        const input = commandSchema.safeParse(body);
        return input.success ? interactions.command(input.data) : invalid(input.error);
      }
      case "/sim/sample": {
        const input = sampleSchema.safeParse(body);
        return input.success ? agent.sendSample(input.data.id) : invalid(input.error);
      }
      default:
        return { status: 404, body: { error: "not found" } };
    }
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

    const callbackAgent = /^\/sim\/callbacks\/([a-z0-9._-]{1,64})$/.exec(path)?.[1];
    if (callbackAgent !== undefined && method === "POST") {
      const answer = await inbox.receive(req, callbackAgent);
      if (answer.status === 204) {
        res.writeHead(204).end();
        return true;
      }
      return sendJson(res, answer.status, answer.body);
    }
    if (method === "POST") {
      const body = await readJson(req);
      if (body === undefined) return sendJson(res, 400, { error: "expected a JSON object body" });
      const answer = await action(path, body);
      return sendJson(res, answer.status, answer.body);
    }
    if (method !== "GET") return sendJson(res, 405, { error: "method not allowed" });

    const asset = assets.get(path);
    if (asset) {
      res.writeHead(200, { "content-type": asset.type, "cache-control": "no-cache" }).end(asset.body);
      return true;
    }
    if (path === "/sim" || path === "/sim/") {
      const { channel, viewer } = viewFromQuery(url);
      const html = renderPage({
        ...regions(channel, viewer),
        persona: personaSelect(opts.personas, viewer),
        samples: samplePanel(opts.samples),
        apiBase: opts.appUrl,
        redact: config.redact,
      });
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS }).end(html);
      return true;
    }
    if (path === "/sim/state") {
      const { channel, viewer } = viewFromQuery(url);
      return sendJson(res, 200, regions(channel, viewer));
    }
    if (path === "/sim/events") {
      openEvents(req, res);
      return true;
    }
    const requestId = /^\/sim\/requests\/([A-Za-z0-9_-]{1,100})$/.exec(path)?.[1];
    if (requestId !== undefined) {
      const answer = await agent.getRequest(
        requestId,
        url.searchParams.get("agent"),
        url.searchParams.get("wait"),
      );
      res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8" });
      res.end(`${JSON.stringify(answer.body, null, 2)}\n`);
      return true;
    }
    return sendJson(res, 404, { error: "not found" });
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
