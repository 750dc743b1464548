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

const CLOSE = "\n```";
const open = (label: string) => `*${label}*\n\`\`\`\n`;

/** The full length `renderParams` would use without a limit. */
export function paramsLength(params: unknown, redactKeys: readonly string[], label?: string): number {
  return renderParams(params, redactKeys, Number.MAX_SAFE_INTEGER, label).length;
}

/**
 * The params as pretty JSON in a code block, redacted and escaped, at most `max`
 * characters; when cut, the marker sits inside the code block so the block stays closed.
 */
export function renderParams(
  params: unknown,
  redactKeys: readonly string[],
  max: number,
  label = "Parameters",
): string {
  // A "```" inside a value would close the code block early; a zero-width space keeps it shut.
  const json = prettyJson(redactParams(params, redactKeys)).replace(/```/g, "`\u200b`\u200b`");
  const head = open(label);
  const room = max - head.length - CLOSE.length;
  return `${head}${escapeTruncate(json, Math.max(room, 1))}${CLOSE}`;
}
