import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { Webhook } from "standardwebhooks";
import type { Answer } from "./http.ts";

/**
 * The demo's built-in callback receiver: countersign delivers `request.decided`
 * callbacks to `/sim/callbacks/<agent id>` on the simulator's port, and the page
 * shows each delivery with the result of its signature check. The check is what
 * an agent should do: the independent `standardwebhooks` package computes the
 * signature over "id.timestamp.body" with the agent's secret, and the timestamp
 * must be within five minutes of the demo's clock.
 */

export const TIMESTAMP_TOLERANCE_MS = 5 * 60_000;
const MAX_BODY = 512 * 1024;
const KEPT = 20;

export interface CallbackDelivery {
  /** When it arrived (the demo's clock). */
  at: number;
  agent: string;
  webhookId: string;
  /** "verified", or why it is not. */
  check: "verified" | "bad signature" | "stale timestamp" | "missing headers" | "unknown agent";
  type: string | null;
  requestId: string | null;
  status: string | null;
  resolution: string | null;
}

export interface CallbackInbox {
  /** Receives one delivery for `agent`; answers like a well-behaved agent (204, or 400 when the check fails). */
  receive(req: IncomingMessage, agent: string): Promise<Answer>;
  deliveries(): readonly CallbackDelivery[];
}

async function readRaw(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const header = (req: IncomingMessage, name: string): string | null => {
  const value = req.headers[name];
  return typeof value === "string" && value !== "" ? value : null;
};

/** True when one of the `v1,<base64>` signatures in the header is the expected one. */
function signatureMatches(expected: string, headerValue: string): boolean {
  const want = Buffer.from(expected);
  return headerValue.split(" ").some((candidate) => {
    const got = Buffer.from(candidate);
    return got.length === want.length && timingSafeEqual(got, want);
  });
}

export function createCallbackInbox(opts: {
  /** Agent id → its callback_secret (whsec_…). */
  secrets: ReadonlyMap<string, string>;
  now: () => number;
  changed: () => void;
}): CallbackInbox {
  const kept: CallbackDelivery[] = [];

  const record = (delivery: CallbackDelivery) => {
    kept.push(delivery);
    if (kept.length > KEPT) kept.splice(0, kept.length - KEPT);
    opts.changed();
  };

  return {
    deliveries: () => kept,

    async receive(req, agent) {
      const raw = await readRaw(req);
      if (raw === null) return { status: 413, body: { error: "too large" } };
      const at = opts.now();
      const id = header(req, "webhook-id");
      const timestamp = header(req, "webhook-timestamp");
      const signature = header(req, "webhook-signature");
      const secret = opts.secrets.get(agent);
      let check: CallbackDelivery["check"] = "verified";
      if (secret === undefined) check = "unknown agent";
      else if (id === null || timestamp === null || signature === null || !/^[0-9]{1,12}$/.test(timestamp)) {
        check = "missing headers";
      } else {
        const expected = new Webhook(secret).sign(id, new Date(Number(timestamp) * 1000), raw);
        if (!signatureMatches(expected, signature)) check = "bad signature";
        else if (Math.abs(at - Number(timestamp) * 1000) > TIMESTAMP_TOLERANCE_MS) check = "stale timestamp";
      }
      // Only a verified body is read: an unverified one is exactly what an agent must not trust.
      let type: string | null = null;
      let data: Record<string, unknown> = {};
      if (check === "verified") {
        try {
          const parsed = JSON.parse(raw.toString("utf8")) as { type?: unknown; data?: unknown };
          type = typeof parsed.type === "string" ? parsed.type : null;
          if (typeof parsed.data === "object" && parsed.data !== null)
            data = parsed.data as Record<string, unknown>;
        } catch {
          type = null;
        }
      }
      const str = (v: unknown) => (typeof v === "string" ? v : null);
      record({
        at,
        agent,
        webhookId: id ?? "",
        check,
        type,
        requestId: str(data.id),
        status: str(data.status),
        resolution: str(data.resolution),
      });
      return check === "verified"
        ? { status: 204, body: null }
        : { status: 400, body: { error: `callback not accepted: ${check}` } };
    },
  };
}
