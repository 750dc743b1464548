// Slack mrkdwn helpers. Slack treats only `&`, `<` and `>` as control characters;
// everything an agent sends goes through `escapeMrkdwn` (or `escapeTruncate`) so it
// can never become a mention, a broadcast (`<!channel>`) or a disguised link.

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** Escapes Slack's three control characters; nothing else is touched. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/[&<>]/g, (c) => ENTITIES[c] ?? c);
}

/** The visible marker appended to cut text. */
export function truncationMarker(cut: number): string {
  return `… (${cut} more ${cut === 1 ? "character" : "characters"})`;
}

/**
 * Cuts `raw` so that `encode(prefix) + marker` is at most `max` characters,
 * never splitting a surrogate pair or an escaped entity. The marker counts the
 * characters (code points) of `raw` that were dropped.
 */
function cut(
  raw: string,
  max: number,
  encodedLength: (c: string) => number,
  encode: (s: string) => string,
): string {
  const whole = encode(raw);
  if (whole.length <= max) return whole;
  const total = codePoints(raw);
  let withMarker = -1; // longest prefix that fits together with the full marker
  let markerCount = 0; // code points dropped at that prefix
  let bare = -1; // longest prefix that fits with a lone "…"
  let used = 0; // encoded length of raw[0, i)
  let seen = 0; // code points in raw[0, i)
  let i = 0;
  for (;;) {
    if (used + truncationMarker(total - seen).length <= max) {
      withMarker = i;
      markerCount = total - seen;
    }
    if (used + 1 <= max) bare = i;
    if (i >= raw.length) break;
    const step = isHighSurrogate(raw.charCodeAt(i)) && i + 1 < raw.length ? 2 : 1;
    used += encodedLength(raw.slice(i, i + step));
    if (used >= max) break;
    i += step;
    seen += 1;
  }
  if (withMarker >= 0) return encode(raw.slice(0, withMarker)) + truncationMarker(markerCount);
  // Too small for the marker (only for tiny limits): keep what fits and a bare ellipsis.
  return bare >= 0 ? `${encode(raw.slice(0, bare))}…` : "";
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (!(isHighSurrogate(s.charCodeAt(i)) && i + 1 < s.length)) n++;
  return n;
}

/** Cuts `s` to at most `max` characters, ending with "… (N more characters)" when cut. */
export function truncate(s: string, max: number): string {
  return cut(
    s,
    max,
    (c) => c.length,
    (x) => x,
  );
}

/** Escapes `s` for mrkdwn and cuts the escaped result to at most `max` characters. */
export function escapeTruncate(s: string, max: number): string {
  return cut(s, max, (c) => (ENTITIES[c] ?? c).length, escapeMrkdwn);
}

const USER_ID = /^[UW][A-Z0-9]{2,40}$/;
const USERGROUP_ID = /^S[A-Z0-9]{2,40}$/;

/** `<@U…>` when `id` looks like a Slack user id, otherwise the escaped text. */
export function userMention(id: string): string {
  return USER_ID.test(id) ? `<@${id}>` : escapeTruncate(id, 80);
}

/** `<!subteam^S…>` when `id` looks like a Slack user-group id, otherwise the escaped text. */
export function usergroupMention(id: string): string {
  return USERGROUP_ID.test(id) ? `<!subteam^${id}>` : escapeTruncate(id, 80);
}

/** "a", "a and b", "a, b and c". */
export function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/**
 * `<!date^UNIX^{date_short_pretty} at {time}|ISO>`: shown in each reader's own
 * time zone. An unparseable time is shown as escaped text.
 */
export function slackDate(iso: string, format = "{date_short_pretty} at {time}"): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeTruncate(iso, 60);
  const fallback = new Date(ms).toISOString();
  return `<!date^${Math.floor(ms / 1000)}^${format}|${fallback}>`;
}

/**
 * `<url|label>` for an http(s) URL that cannot break out of the link syntax,
 * or null when the URL is unsafe (the caller then shows it as escaped text).
 */
export function safeLink(url: string, label: string): string | null {
  if (!isSafeUrl(url)) return null;
  // Inside `<…>` only `&` still needs escaping; `|` would end the URL early.
  const safeLabel = escapeMrkdwn(label).replace(/\|/g, "¦");
  return `<${escapeMrkdwn(url)}|${safeLabel}>`;
}

/** http(s), parseable, and free of characters that would end or split a Slack link. */
export function isSafeUrl(url: string): boolean {
  if (/[|<>\s\p{Cc}]/u.test(url)) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === "http:" || parsed.protocol === "https:";
}

/** "90s", "15m", "1h 30m", "2d 4h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (sec && !d && !h) parts.push(`${sec}s`);
  return parts.length ? parts.slice(0, 2).join(" ") : "0s";
}

/** A link that opens a message (in its thread, for a reply) in Slack. */
export function messageUrl(channel: string, ts: string, threadTs: string | null): string {
  const base = `https://slack.com/archives/${channel}/p${ts.replace(".", "")}`;
  return threadTs === null ? base : `${base}?thread_ts=${threadTs}&cid=${channel}`;
}
