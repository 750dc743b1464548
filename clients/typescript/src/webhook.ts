import { createHmac, timingSafeEqual } from "node:crypto";
import { WebhookVerificationError } from "./errors.ts";
import type { DecidedCallback } from "./types.ts";

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** Seconds a delivery's timestamp may be off from now; default 300 (as Standard Webhooks). */
  toleranceSeconds?: number;
  /** "Now" in epoch milliseconds; the system clock by default. */
  now?: number;
}

/**
 * Verifies a countersign callback signed the Standard Webhooks way (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`)
 * with the agent's `whsec_…` secret, and returns the parsed body. Pass the raw body
 * exactly as received. Throws WebhookVerificationError when anything does not match.
 */
export function verifyWebhook(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): DecidedCallback {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError("Missing required headers");
  if (!/^[0-9]+$/.test(timestamp)) throw new WebhookVerificationError("Invalid Signature Headers");
  const seconds = Number(timestamp);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (now - seconds > tolerance) throw new WebhookVerificationError("Message timestamp too old");
  if (seconds > now + tolerance) throw new WebhookVerificationError("Message timestamp too new");

  const body = typeof payload === "string" ? payload : Buffer.from(payload).toString("utf8");
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  if (key.length === 0) throw new WebhookVerificationError("Secret can't be empty");
  const expected = createHmac("sha256", key).update(`${id}.${seconds}.${body}`).digest("base64");
  const wanted = Buffer.from(expected);
  const matches = signatures.split(" ").some((versioned) => {
    const [version, signature] = versioned.split(",");
    if (version !== "v1" || signature === undefined) return false;
    const given = Buffer.from(signature);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  });
  if (!matches) throw new WebhookVerificationError("No matching signature found");
  try {
    return JSON.parse(body) as DecidedCallback;
  } catch (error) {
    throw new WebhookVerificationError("Signed body is not JSON", { cause: error });
  }
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(" ") : value;
  }
  return undefined;
}
