/**
 * A fake Slack Web API on 127.0.0.1 for tests and the local simulator. The app reaches it
 * with `new WebClient(token, { slackApiUrl: fake.url })`; every call is recorded, faults
 * and rate limits can be injected, and the workspace state can be read and watched.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type ApiResponse, callMethod, decodeArgs } from "./slack-methods.ts";
import { FakeSocketMode } from "./socket-mode.ts";
import {
  type ChannelInfo,
  type Ephemeral,
  type OpenedView,
  type SlackMessage,
  Workspace,
  type WorkspaceChange,
  type WorkspaceOptions,
} from "./workspace.ts";

export type FaultSpec = {
  /** HTTP status to answer with (500, 503, 429…); without it the answer is HTTP 200 `ok:false`. */
  status?: number;
  /** Seconds, sent as `Retry-After` on a 429 (default 1, as Slack always sends one). */
  retryAfter?: number;
  /** The `error` in the body (default `ratelimited` on 429, `internal_error` otherwise). */
  error?: string;
  /** How many consecutive calls fail (default 1). */
  times?: number;
};

export type RecordedCall = {
  method: string;
  /** Arguments as the app sent them, with blocks/view/metadata decoded and the token left out. */
  args: Record<string, unknown>;
  at: number;
  status: number;
  response: ApiResponse;
};

export type FakeSlackOptions = WorkspaceOptions & {
  port?: number;
  /** When set, any other bearer token is `invalid_auth`. */
  token?: string;
  /** Extra Block Kit checks run on every message's blocks; each returned string is a problem. */
  validateBlocks?: (blocks: unknown[]) => string[];
  /** Token bucket per channel for chat.postMessage; over it → HTTP 429, `Retry-After: 1`. */
  rateLimit?: { perChannelPerSecond: number; burst: number };
  /**
   * Serve Socket Mode: `apps.connections.open` (with an `xapp-` token) answers a
   * ws:// URL on this port, and `socket` delivers interactions over it. Without
   * it the method is unknown, as when Slack's WebSocket side is unreachable.
   */
  socketMode?: boolean;
};

export type FakeSlackStats = { calls: number; rateLimited: number; injectedFaults: number };

/**
 * Serves a request outside `/api/` on the fake's port (the simulator page uses this);
 * resolves true when it answered, false to let the next route (or the 404) have it.
 */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/** Any method name, or "*" for every method. */
type MethodKey = string;

export class FakeSlack {
  readonly workspace: Workspace;
  readonly calls: RecordedCall[] = [];
  readonly stats: FakeSlackStats = { calls: 0, rateLimited: 0, injectedFaults: 0 };
  private readonly opts: FakeSlackOptions;
  private readonly server: Server;
  private faults = new Map<MethodKey, Required<Pick<FaultSpec, "times">> & FaultSpec>();
  private delays = new Map<MethodKey, { ms: number; times: number }>();
  private lateAnswers = new Map<MethodKey, { ms: number; times: number }>();
  private buckets = new Map<string, { tokens: number; last: number }>();
  private extraRoutes: ExtraRoute[] = [];
  private readonly socketMode: FakeSocketMode | null;

  constructor(opts: FakeSlackOptions = {}) {
    this.opts = opts;
    this.workspace = new Workspace(opts);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // The fake itself broke: answer like a Slack outage so the failure is visible.
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: false, error: `fake_slack_crashed: ${String(err)}` }));
      });
    });
    this.socketMode = opts.socketMode ? new FakeSocketMode(this.server) : null;
  }

  /** Socket Mode's side of the fake (interactions over the WebSocket); only with `socketMode: true`. */
  get socket(): FakeSocketMode {
    if (this.socketMode === null) throw new Error("this fake Slack was started without socketMode: true");
    return this.socketMode;
  }

  /** Listen on 127.0.0.1 (port 0 = any free port). */
  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => resolve());
    });
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The `slackApiUrl` to give a WebClient: "http://127.0.0.1:PORT/api/". */
  get url(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  async close(): Promise<void> {
    await this.socketMode?.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Serve more routes on this port; `/api/…` always stays the Web API. Returns a remover. */
  addRoute(route: ExtraRoute): () => void {
    this.extraRoutes.push(route);
    return () => {
      this.extraRoutes = this.extraRoutes.filter((r) => r !== route);
    };
  }

  /** Make the next call(s) to `method` ("*" = any) fail the given way, before any state changes. */
  failNext(method: MethodKey, spec: FaultSpec = {}): void {
    this.faults.set(method, { ...spec, times: spec.times ?? 1 });
  }

  /** Hold the next call(s) to `method` for `ms` before handling them (Slack being slow). */
  delayNext(method: MethodKey, ms: number, times = 1): void {
    this.delays.set(method, { ms, times });
  }

  /**
   * Handle the next call(s) to `method` at once (a message is posted) but hold
   * the answer for `ms`: Slack took it, the app has not heard yet.
   */
  answerLateNext(method: MethodKey, ms: number, times = 1): void {
    this.lateAnswers.set(method, { ms, times });
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  messages(channel: string): SlackMessage[] {
    return this.workspace.messages(channel);
  }

  thread(channel: string, ts: string): SlackMessage[] {
    return this.workspace.thread(channel, ts);
  }

  ephemerals(channel?: string, user?: string): Ephemeral[] {
    return this.workspace.ephemerals(channel, user);
  }

  get views(): OpenedView[] {
    return this.workspace.views();
  }

  channels(): ChannelInfo[] {
    return this.workspace.channels();
  }

  setUsergroup(id: string, users: string[]): void {
    this.workspace.setUsergroup(id, users);
  }

  setUser(id: string, info: { name: string; real_name: string }): void {
    this.workspace.setUser(id, info);
  }

  /** Called after every state change and every API call; returns an unsubscribe function. */
  onChange(listener: (change: WorkspaceChange) => void): () => void {
    return this.workspace.onChange(listener);
  }

  /** Forget calls, messages, faults, delays and rate-limit buckets. */
  reset(): void {
    this.calls.length = 0;
    Object.assign(this.stats, { calls: 0, rateLimited: 0, injectedFaults: 0 });
    this.faults.clear();
    this.delays.clear();
    this.lateAnswers.clear();
    this.buckets.clear();
    this.workspace.reset();
  }

  /**
   * Resolve with the predicate's first truthy result, checked now and after every change
   * or API call. A predicate that throws counts as "not yet".
   */
  waitFor<T>(predicate: (fake: FakeSlack) => T, timeoutMs = 2000): Promise<NonNullable<T>> {
    return new Promise((resolve, reject) => {
      let lastError: unknown;
      const check = (): boolean => {
        try {
          const value = predicate(this);
          if (!value) return false;
          finish();
          resolve(value as NonNullable<T>);
          return true;
        } catch (err) {
          lastError = err;
          return false;
        }
      };
      const unsubscribe = this.onChange(() => void check());
      const timer = setTimeout(() => {
        finish();
        const recent = this.calls
          .slice(-5)
          .map((c) => `${c.method}→${c.response.ok ? "ok" : c.response.error}`);
        const why = lastError === undefined ? "" : `; last predicate error: ${String(lastError)}`;
        reject(
          new Error(
            `fake Slack waitFor timed out after ${timeoutMs}ms; recent calls: [${recent.join(", ")}]${why}`,
          ),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        unsubscribe();
      };
      check();
    });
  }

  private take<T extends { times: number }>(map: Map<MethodKey, T>, method: string): T | undefined {
    const key = map.has(method) ? method : map.has("*") ? "*" : undefined;
    if (key === undefined) return undefined;
    const entry = map.get(key)!;
    entry.times -= 1;
    if (entry.times <= 0) map.delete(key);
    return entry;
  }

  /** Token bucket per channel; true when this post is over the limit. */
  private overRateLimit(channel: string): boolean {
    const limit = this.opts.rateLimit;
    if (!limit) return false;
    const now = this.workspace.now();
    const bucket = this.buckets.get(channel) ?? { tokens: limit.burst, last: now };
    bucket.tokens = Math.min(
      limit.burst,
      bucket.tokens + ((now - bucket.last) / 1000) * limit.perChannelPerSecond,
    );
    bucket.last = now;
    this.buckets.set(channel, bucket);
    if (bucket.tokens < 1) return true;
    bucket.tokens -= 1;
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (!url.pathname.startsWith("/api/")) {
      for (const route of [...this.extraRoutes]) if (await route(req, res)) return;
    }
    const match = /^\/api\/([A-Za-z0-9._]+)$/.exec(url.pathname);
    const raw = await readBody(req);
    if (!match) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const method = match[1]!;
    const { token, args } = parseRequest(req, url, raw);

    const delay = this.take(this.delays, method);
    if (delay) await new Promise((r) => setTimeout(r, delay.ms));

    const send = (status: number, response: ApiResponse, headers: Record<string, string> = {}): void => {
      this.calls.push({ method, args, at: this.workspace.now(), status, response });
      this.stats.calls += 1;
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(response));
      const { error } = response;
      this.workspace.notify({
        type: "api_call",
        method,
        status,
        ok: response.ok,
        ...(error ? { error } : {}),
      });
    };

    if (!token) return send(200, { ok: false, error: "not_authed" });
    if (method === "apps.connections.open" && this.socketMode !== null) {
      // The app-level token, not the bot token, opens a Socket Mode connection.
      if (!token.startsWith("xapp-")) return send(200, { ok: false, error: "not_allowed_token_type" });
      const fault = this.take(this.faults, method);
      if (fault) return send(fault.status ?? 200, { ok: false, error: fault.error ?? "internal_error" });
      return send(200, { ok: true, url: this.socketMode.connectionUrl(this.port) });
    }
    if (this.opts.token !== undefined && token !== this.opts.token) {
      return send(200, { ok: false, error: "invalid_auth" });
    }
    const fault = this.take(this.faults, method);
    if (fault) {
      this.stats.injectedFaults += 1;
      const status = fault.status ?? (fault.error === undefined ? 500 : 200);
      if (status === 429) {
        const retryAfter = String(fault.retryAfter ?? 1);
        return send(429, { ok: false, error: fault.error ?? "ratelimited" }, { "retry-after": retryAfter });
      }
      return send(status, { ok: false, error: fault.error ?? "internal_error" });
    }
    if (method === "chat.postMessage" && this.overRateLimit(String(args.channel ?? ""))) {
      this.stats.rateLimited += 1;
      return send(429, { ok: false, error: "ratelimited" }, { "retry-after": "1" });
    }
    const ctx = { ws: this.workspace, validateBlocks: this.opts.validateBlocks };
    const answer = callMethod(ctx, method, args);
    const late = this.take(this.lateAnswers, method);
    if (late) await new Promise((r) => setTimeout(r, late.ms));
    return send(200, answer);
  }
}

/** Start a fake Slack Web API on 127.0.0.1. */
export function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  return new FakeSlack(opts).listen(opts.port ?? 0);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Query string, then a form or JSON body, as Slack accepts them; the token from the header or a field. */
function parseRequest(
  req: IncomingMessage,
  url: URL,
  raw: string,
): { token: string | undefined; args: Record<string, unknown> } {
  const fields: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json" && raw.trim() !== "") {
    const parsed: unknown = safeJson(raw);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) Object.assign(fields, parsed);
  } else if (raw !== "") {
    Object.assign(fields, Object.fromEntries(new URLSearchParams(raw)));
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  const token = bearer ?? (typeof fields.token === "string" ? fields.token : undefined);
  delete fields.token;
  return { token, args: decodeArgs(fields) };
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
