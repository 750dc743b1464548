import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { ChangeBus } from "../ports.ts";
import type { PgLog } from "./open.ts";
import type { PgSession } from "./session.ts";

export const CHANNEL = "countersign_changed";

/**
 * "Request changed" across replicas with LISTEN/NOTIFY. publish() sends
 * pg_notify through the pool once the running transaction (if any) has
 * committed; one dedicated connection LISTENs and reconnects with backoff
 * when it is lost, then calls every listener with null (notices may have been
 * missed while it was away: re-check everything).
 */
export function createPgBus(
  session: PgSession,
  connection: pg.ClientConfig,
  options: { log: PgLog; maxBackoffMs?: number },
): ChangeBus & { ready: Promise<void>; close(): Promise<void> } {
  const { log } = options;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const listeners: ((requestId: string | null) => void)[] = [];
  let client: pg.Client | null = null;
  let closed = false;
  let connectedOnce = false;

  const emit = (requestId: string | null) => {
    for (const listener of listeners) {
      try {
        listener(requestId);
      } catch (error) {
        log.error({ err: error }, "change listener failed");
      }
    }
  };

  async function connect(): Promise<void> {
    let backoff = 100;
    for (let attempt = 1; !closed; attempt += 1) {
      const c = new pg.Client(connection);
      c.on("notification", (msg) => {
        if (msg.channel === CHANNEL) emit(msg.payload ?? null);
      });
      c.on("error", (error) => {
        log.warn({ err: error }, "PostgreSQL LISTEN connection lost; reconnecting");
        lost(c);
      });
      c.on("end", () => lost(c));
      try {
        await c.connect();
        await c.query(`LISTEN ${CHANNEL}`);
        if (closed) {
          await c.end().catch(() => undefined);
          return;
        }
        client = c;
        if (connectedOnce) emit(null);
        connectedOnce = true;
        return;
      } catch (error) {
        c.removeAllListeners("end");
        await c.end().catch(() => undefined);
        if (!connectedOnce && attempt === 1) throw error;
        log.warn({ err: error }, `PostgreSQL LISTEN reconnect failed (attempt ${attempt})`);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }

  function lost(c: pg.Client): void {
    if (client !== c) return;
    client = null;
    c.removeAllListeners("end");
    c.end().catch(() => undefined);
    if (!closed) void connect();
  }

  const ready = connect();
  // A failure of the very first connection is reported through ready; keep it from being unhandled.
  ready.catch(() => undefined);

  return {
    ready,
    publish(requestId: string): void {
      session.afterCommit(() => {
        session.pool
          .query("SELECT pg_notify($1, $2)", [CHANNEL, requestId])
          .catch((error) => log.warn({ err: error, requestId }, "pg_notify failed"));
      });
    },
    subscribe(listener): void {
      listeners.push(listener);
    },
    async close(): Promise<void> {
      closed = true;
      const c = client;
      client = null;
      if (c !== null) {
        c.removeAllListeners("end");
        await c.end().catch(() => undefined);
      }
    },
  };
}
