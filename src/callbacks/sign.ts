import { createHmac } from "node:crypto";

/** The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`. */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
}

/** `v1,<base64 HMAC-SHA256 over "id.timestamp.body">` per Standard Webhooks. */
export function signWebhook(secret: string, id: string, timestampSec: number, body: string): string {
  const mac = createHmac("sha256", secretKey(secret))
    .update(`${id}.${timestampSec}.${body}`)
    .digest("base64");
  return `v1,${mac}`;
}

/** Delay before attempt n+1 (n = attempts so far): 5s doubling to 1h, ±20% jitter. */
export function callbackBackoffMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(60 * 60_000, 5_000 * 2 ** attempts);
  return Math.round(base * (0.8 + random() * 0.4));
}

/** Deliveries keep being retried for this long after the first attempt (at least a day). */
export const CALLBACK_RETRY_WINDOW_MS = 3 * 24 * 60 * 60_000;
