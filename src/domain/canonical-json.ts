import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/** RFC 8785 (JCS) canonical JSON of a value. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value has no JSON representation");
  return text;
}

/** `sha256:<hex>` over the canonical JSON of the value, as `args_hash` is defined. */
export function argsHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** `sha256:<hex>` of text that is already canonical JSON. */
export function sha256Hex(canonical: string): string {
  return `sha256:${createHash("sha256").update(canonical).digest("hex")}`;
}
