import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { vi } from "vitest";
import { eventually } from "./harness.ts";

/** One POST the callback receiver got. */
export interface Delivery {
  headers: Record<string, string>;
  body: string;
  /** Real time it arrived. */
  receivedAt: number;
}

/** What the receiver does with the n-th delivery (0-based): answer with a status, or never answer. */
export type Respond = (delivery: Delivery, n: number) => number | "hang";

export interface Receiver {
  url: string;
  port: number;
  deliveries: Delivery[];
  respond: Respond;
  /** Resolves once at least n deliveries arrived. */
  waitForDeliveries(n: number, timeoutMs?: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

/** A local webhook receiver on 127.0.0.1 that records every delivery. */
export async function startReceiver(respond: Respond = () => 200, port = 0): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: "",
    port: 0,
    deliveries: [],
    respond,
    async waitForDeliveries(n, timeoutMs = 5000) {
      await eventually(() => receiver.deliveries.length >= n, timeoutMs);
      return receiver.deliveries;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const delivery: Delivery = {
        headers,
        body: Buffer.concat(chunks).toString("utf8"),
        receivedAt: Date.now(),
      };
      const n = receiver.deliveries.length;
      receiver.deliveries.push(delivery);
      const answer = receiver.respond(delivery, n);
      if (answer === "hang") {
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      res.writeHead(answer, { "content-type": "text/plain" }).end(answer < 300 ? "ok" : "no");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks/approvals`;
  return receiver;
}

/**
 * Verifies a delivery with the independent `standardwebhooks` package, as a
 * receiver whose clock reads `nowMs` would (the service signs with its clock,
 * which is the fake one in these tests). Throws when the signature is wrong.
 */
export function verifyWebhook(secret: string, delivery: Delivery, nowMs: number): unknown {
  const spy = vi.spyOn(Date, "now").mockReturnValue(nowMs);
  try {
    return new Webhook(secret).verify(delivery.body, delivery.headers);
  } finally {
    spy.mockRestore();
  }
}
