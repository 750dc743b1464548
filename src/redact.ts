/**
 * Redaction (CONTRACT §7): values under the config's `redact` keys, at any depth
 * and in any case, are replaced before anything leaves through Slack, logs, the
 * audit log, exports or the events API. The agent's own resource keeps them.
 */

export const REDACTED = "[redacted]";

const isPlain = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** A function that returns a redacted copy of a value; identity when there are no keys. */
export function createRedactor(redactKeys: readonly string[]): <T>(value: T) => T {
  const keys = new Set(redactKeys.map((k) => k.toLowerCase()));
  if (keys.size === 0) return (value) => value;
  // Only arrays and plain objects are walked: an Error or a Buffer in a log line is left to its serializer.
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== "object" || v === null || !isPlain(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = keys.has(k.toLowerCase()) ? REDACTED : walk(x);
    return out;
  };
  return <T>(value: T) => walk(value) as T;
}

/** A copy of `value` where every property named in `redactKeys` (any depth, any case) is "[redacted]". */
export function redact<T>(value: T, redactKeys: readonly string[]): T {
  return createRedactor(redactKeys)(value);
}
