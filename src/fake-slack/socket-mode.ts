/**
 * Slack's Socket Mode, faked: `apps.connections.open` hands out a ws:// URL on
 * the fake's own port; the app connects, gets `hello`, and interactions are
 * delivered as envelopes `{ envelope_id, type: "interactive", payload,
 * accepts_response_payload }` that the app acks with `{ envelope_id, payload? }`.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";

/** What came back for one delivered envelope. */
export type SocketAck =
  | { acked: true; payload: Record<string, unknown>; ms: number }
  | { acked: false; ms: number };

const PATH = "/link/";
/** Slack pings about every 10 s; the client treats a long silence as a dead link. */
const PING_EVERY_MS = 10_000;

export class FakeSocketMode {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();
  private readonly waiting = new Map<string, (payload: Record<string, unknown>) => void>();
  private readonly connectedListeners = new Set<() => void>();
  /** Every envelope sent and what its ack carried, in order (tests read it). */
  readonly envelopes: { envelope_id: string; type: string; acked: boolean }[] = [];

  private readonly appId: string;
  constructor(server: Server, appId = "A0FAKEAPP") {
    this.appId = appId;
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!(req.url ?? "").startsWith(PATH)) {
        socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  /** The answer to apps.connections.open: a fresh ticket on this server's port. */
  connectionUrl(port: number): string {
    return `ws://127.0.0.1:${port}${PATH}?ticket=${randomUUID()}&app_id=${this.appId}`;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Resolves once an app holds an open connection (it received `hello`). */
  waitForConnection(timeoutMs = 5_000): Promise<void> {
    if (this.sockets.size > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.connectedListeners.delete(done);
        reject(new Error(`no Socket Mode connection within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.connectedListeners.delete(done);
        resolve();
      };
      this.connectedListeners.add(done);
    });
  }

  /**
   * Delivers an interaction payload (block_actions, view_submission…) as Slack
   * would, over the newest connection, and waits up to `timeoutMs` (Slack's
   * 3 s) for its ack.
   */
  async sendInteractive(payload: Record<string, unknown>, timeoutMs = 3_000): Promise<SocketAck> {
    await this.waitForConnection(timeoutMs);
    const ws = [...this.sockets].at(-1);
    if (!ws) throw new Error("no Socket Mode connection");
    const envelopeId = randomUUID();
    const record = { envelope_id: envelopeId, type: "interactive", acked: false };
    this.envelopes.push(record);
    const started = performance.now();
    return new Promise<SocketAck>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(envelopeId);
        resolve({ acked: false, ms: performance.now() - started });
      }, timeoutMs);
      this.waiting.set(envelopeId, (ackPayload) => {
        clearTimeout(timer);
        record.acked = true;
        resolve({ acked: true, payload: ackPayload, ms: performance.now() - started });
      });
      ws.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type: "interactive",
          payload,
          // Slack lets a view submission's ack carry the answer (response_action).
          accepts_response_payload: payload.type === "view_submission",
        }),
      );
    });
  }

  /** Asks every connected app to reconnect, as Slack does before recycling a server. */
  disconnectAll(reason = "refresh_requested"): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ type: "disconnect", reason }));
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    this.sockets.add(ws);
    const ping = setInterval(() => ws.ping(), PING_EVERY_MS);
    ping.unref();
    ws.on("close", () => {
      clearInterval(ping);
      this.sockets.delete(ws);
    });
    ws.on("error", () => ws.terminate());
    ws.on("message", (data) => {
      let message: { envelope_id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(String(data)) as typeof message;
      } catch {
        return;
      }
      if (typeof message.envelope_id !== "string") return;
      const waiter = this.waiting.get(message.envelope_id);
      if (!waiter) return;
      this.waiting.delete(message.envelope_id);
      const payload =
        message.payload !== null && typeof message.payload === "object"
          ? (message.payload as Record<string, unknown>)
          : {};
      waiter(payload);
    });
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.sockets.size,
        debug_info: { host: "fake-slack", approximate_connection_time: 18_060 },
        connection_info: { app_id: this.appId },
      }),
    );
    for (const listener of [...this.connectedListeners]) listener();
  }
}
