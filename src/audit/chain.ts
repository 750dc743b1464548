/**
 * The audit hash chain (CONTRACT §7). Each event's hash is
 *   sha256:<hex of SHA-256 over the RFC 8785 canonical JSON of
 *     { request_id, at, event, actor, detail, prev_hash }>
 * where `at` is the ISO 8601 time, `detail` the event's JSON value (or null) and
 * `prev_hash` the previous event's hash (GENESIS for the first event). The row id
 * (`seq`) is not hashed: order is proven by the links, and a gap in seq is
 * reported on its own.
 */
import { hash } from "node:crypto";

/** prev_hash of the first event. */
export const GENESIS_HASH = `sha256:${"0".repeat(64)}`;

/** What an event's hash covers; `detail` is its canonical JSON text (RFC 8785) or null. */
export interface ChainContent {
  requestId: string | null;
  at: number;
  event: string;
  actor: string | null;
  detail: string | null;
}

const str = (v: string | null): string => (v === null ? "null" : JSON.stringify(v));

// Verifying a long chain formats millions of times; events come in bursts within one second.
let cachedSecond = Number.NaN;
let cachedPrefix = "";
/** `new Date(ms).toISOString()`, reusing the formatted second of the previous call. */
export function isoMs(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();
    if (iso.length !== 24) return new Date(ms).toISOString(); // years outside 0000–9999
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
  }
  const frac = ms - second * 1000;
  return `${cachedPrefix}${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}Z`;
}

/**
 * The canonical JSON of an event's content. Keys are written in RFC 8785 order
 * (actor, at, detail, event, prev_hash, request_id) and strings the way
 * JSON.stringify writes them, which is what RFC 8785 prescribes; `detail` is
 * already canonical text, so nothing is parsed or re-sorted on the hot path.
 */
export function chainContentJson(prevHash: string, e: ChainContent): string {
  return `{"actor":${str(e.actor)},"at":"${isoMs(e.at)}","detail":${e.detail ?? "null"},"event":${str(e.event)},"prev_hash":${str(prevHash)},"request_id":${str(e.requestId)}}`;
}

/** `sha256:<hex>` of an event chained after `prevHash`. */
export function chainHash(prevHash: string, e: ChainContent): string {
  return `sha256:${hash("sha256", chainContentJson(prevHash, e), "hex")}`;
}
