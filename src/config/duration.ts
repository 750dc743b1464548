/** Durations as written in the config file and in request bodies: a positive whole number and one unit. */

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Largest first, so formatting picks the biggest unit that divides exactly. */
const UNITS_DESC: readonly Unit[] = ["d", "h", "m", "s"];

const DURATION_RE = /^([1-9][0-9]*)([smhd])$/;

/** Human wording of what parseDuration accepts, for error messages. */
export const DURATION_FORMS = "a positive whole number followed by s, m, h or d, e.g. 90s, 30m, 4h, 2d";

/** "90s" | "30m" | "4h" | "2d" → milliseconds; anything else (including "0m", "1.5h", "1h30m") → null. */
export function parseDuration(text: string): number | null {
  const m = DURATION_RE.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] as Unit];
  return Number.isSafeInteger(ms) ? ms : null;
}

/**
 * Shortest exact form. Whole seconds always come out as one number and one unit
 * (3_600_000 → "1h", 5_400_000 → "90m", 90_000 → "90s"), so parseDuration reads
 * the result back unchanged; only a sub-second remainder needs the mixed form ("1m30s250ms").
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  const whole = Math.round(ms);
  if (whole === 0) return "0s";
  for (const unit of UNITS_DESC) {
    if (whole % UNIT_MS[unit] === 0) return `${whole / UNIT_MS[unit]}${unit}`;
  }
  let rest = whole;
  let out = "";
  for (const unit of UNITS_DESC) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNIT_MS[unit];
  }
  return `${out}${rest}ms`;
}
