import { escapeTruncate } from "../mrkdwn.ts";

export const REDACTED = "[redacted]";

/** A copy of `value` where every property named in `redactKeys` (any depth, any case) is "[redacted]". */
export function redactParams(value: unknown, redactKeys: readonly string[]): unknown {
  const keys = new Set(redactKeys.map((k) => k.toLowerCase()));
  if (keys.size === 0) return value;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== "object" || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = keys.has(k.toLowerCase()) ? REDACTED : walk(x);
    return out;
  };
  return walk(value);
}

function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

const OPEN = "*Parameters*\n```\n";
const CLOSE = "\n```";

/** The full length `renderParams` would use without a limit. */
export function paramsLength(params: unknown, redactKeys: readonly string[]): number {
  return renderParams(params, redactKeys, Number.MAX_SAFE_INTEGER).length;
}

/**
 * The params as pretty JSON in a code block, redacted and escaped, at most `max`
 * characters; when cut, the marker sits inside the code block so the block stays closed.
 */
export function renderParams(params: unknown, redactKeys: readonly string[], max: number): string {
  // A "```" inside a value would close the code block early; a zero-width space keeps it shut.
  const json = prettyJson(redactParams(params, redactKeys)).replace(/```/g, "`\u200b`\u200b`");
  const room = max - OPEN.length - CLOSE.length;
  return `${OPEN}${escapeTruncate(json, Math.max(room, 1))}${CLOSE}`;
}
