import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/** RFC 8785 (JSON Canonicalization Scheme) text of a JSON value. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value has no JSON representation");
  return text;
}

/** `args_hash` as countersign defines it: `sha256:` + hex SHA-256 of the canonical JSON of params. */
export function argsHash(params: unknown): string {
  return `sha256:${createHash("sha256").update(canonicalJson(params)).digest("hex")}`;
}
