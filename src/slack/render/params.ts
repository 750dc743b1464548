import { redact } from "../../redact.ts";
import { escapeTruncate } from "../mrkdwn.ts";

export { REDACTED } from "../../redact.ts";

/** A copy of `value` where every property named in `redactKeys` (any depth, any case) is "[redacted]". */
export const redactParams = (value: unknown, redactKeys: readonly string[]): unknown =>
  redact(value, redactKeys);

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
