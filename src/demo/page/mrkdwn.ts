import { h, link, type VNode } from "./vnode.ts";

/**
 * Slack mrkdwn → element tree, close to how Slack shows it: *bold*, _italic_,
 * ~strike~, `code`, ```code blocks```, > quotes, <@U…> mentions as @name,
 * <!date^…|fallback> dates, <url|label> links, a few :emoji: codes. Entities
 * (&amp; &lt; &gt;) become the characters they stand for, as text nodes.
 */

export interface Names {
  user(id: string): string | undefined;
  usergroup(id: string): string | undefined;
  channel(id: string): string | undefined;
}

const EMOJI: Record<string, string> = {
  rotating_light: "🚨",
  white_check_mark: "✅",
  heavy_check_mark: "✔️",
  x: "❌",
  warning: "⚠️",
  hourglass: "⌛",
  hourglass_flowing_sand: "⏳",
  alarm_clock: "⏰",
  no_entry_sign: "🚫",
  no_entry: "⛔",
  lock: "🔒",
  bell: "🔔",
  tada: "🎉",
  eyes: "👀",
  memo: "📝",
  robot_face: "🤖",
  information_source: "ℹ️",
};

export const decodeEntities = (s: string): string =>
  s.replace(/&(amp|lt|gt);/g, (_, name: string) => (name === "amp" ? "&" : name === "lt" ? "<" : ">"));

const isWord = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}]/u.test(c);
const isSpace = (c: string | undefined): boolean => c === undefined || /\s/.test(c);

/** The whole text: code fences, then quote and plain lines. */
export function renderMrkdwn(text: string, names: Names): VNode[] {
  const out: VNode[] = [];
  const parts = text.split("```");
  let pending = "";
  parts.forEach((part, i) => {
    // Odd parts sit between two fences; an unpaired last fence stays literal, as in Slack.
    if (i % 2 === 1 && i < parts.length - 1) {
      if (pending !== "") out.push(...lines(pending.replace(/\n$/, ""), names));
      pending = "";
      out.push(h("pre", "cs-pre", null, [decodeEntities(part.replace(/^\n/, "").replace(/\n$/, ""))]));
      return;
    }
    pending += i % 2 === 1 ? `\`\`\`${part}` : i > 0 ? part.replace(/^\n/, "") : part;
  });
  if (pending !== "") out.push(...lines(pending, names));
  return out;
}

/** Runs of `>` lines become one quote; other lines are joined with line breaks. */
function lines(text: string, names: Names): VNode[] {
  const out: VNode[] = [];
  let quote: VNode[] | null = null;
  let plainOpen = false;
  for (const line of text.split("\n")) {
    const m = /^(?:>|&gt;) ?(.*)$/.exec(line);
    if (m) {
      if (quote === null) {
        quote = [];
        out.push({ t: "blockquote", c: "cs-quote", k: quote });
      } else quote.push(h("br"));
      quote.push(...inline(m[1] ?? "", names));
      plainOpen = false;
      continue;
    }
    quote = null;
    if (plainOpen) out.push(h("br"));
    out.push(...inline(line, names));
    plainOpen = true;
  }
  return out;
}

/** Index of the marker closing a bold, italic or strike run opened at `from`, or -1. */
function closing(s: string, mark: string, from: number): number {
  for (let j = from + 1; j < s.length; j++) {
    if (s[j] === "<") {
      const end = s.indexOf(">", j);
      if (end > j) j = end;
      continue;
    }
    if (s[j] === mark && !isSpace(s[j - 1]) && !isWord(s[j + 1])) return j;
  }
  return -1;
}

const MARKS: Record<string, string> = { "*": "strong", _: "em", "~": "s" };

/** One line of inline mrkdwn. */
export function inline(s: string, names: Names): VNode[] {
  const out: VNode[] = [];
  let buf = "";
  const flush = () => {
    if (buf !== "") out.push(decodeEntities(buf));
    buf = "";
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === "`") {
      const end = s.indexOf("`", i + 1);
      if (end > i + 1) {
        flush();
        out.push(h("code", "cs-code", null, [decodeEntities(s.slice(i + 1, end))]));
        i = end + 1;
        continue;
      }
    }
    if (c === "<") {
      const end = s.indexOf(">", i + 1);
      if (end > i + 1) {
        flush();
        out.push(angle(s.slice(i + 1, end), names));
        i = end + 1;
        continue;
      }
    }
    const tag = MARKS[c];
    if (tag && !isWord(s[i - 1]) && !isSpace(s[i + 1]) && s[i + 1] !== c) {
      const end = closing(s, c, i);
      if (end > i + 1) {
        flush();
        out.push(h(tag, null, null, inline(s.slice(i + 1, end), names)));
        i = end + 1;
        continue;
      }
    }
    if (c === ":") {
      const m = /^:([a-z0-9_+-]+):/.exec(s.slice(i));
      const emoji = m ? EMOJI[m[1] ?? ""] : undefined;
      if (m && emoji) {
        flush();
        out.push(h("span", "cs-emoji", { title: m[0] }, [emoji]));
        i += m[0].length;
        continue;
      }
    }
    buf += c;
    i += 1;
  }
  flush();
  return out;
}

/** `<…>`: mentions, broadcasts, dates and links. */
function angle(token: string, names: Names): VNode {
  const bar = token.indexOf("|");
  const target = bar < 0 ? token : token.slice(0, bar);
  const label = bar < 0 ? null : decodeEntities(token.slice(bar + 1));
  const mention = (text: string) => h("span", "cs-mention", null, [text]);
  if (target.startsWith("@")) {
    const id = target.slice(1);
    return mention(`@${names.user(id) ?? label ?? id}`);
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    return mention(`#${names.channel(id) ?? label ?? id}`);
  }
  if (target.startsWith("!subteam^")) {
    const id = target.slice("!subteam^".length);
    return mention(`@${names.usergroup(id) ?? label?.replace(/^@/, "") ?? id}`);
  }
  if (target.startsWith("!date^")) {
    const [, unix, format] = target.split("^");
    const ms = Number(unix) * 1000;
    const fallback = label ?? decodeEntities(target);
    if (!Number.isFinite(ms)) return fallback;
    const attrs: Record<string, string> = { datetime: new Date(ms).toISOString() };
    if (format) attrs["data-format"] = decodeEntities(format);
    return h("time", "cs-date", attrs, [fallback]);
  }
  if (target.startsWith("!")) {
    const word = target.slice(1);
    return ["here", "channel", "everyone"].includes(word)
      ? mention(`@${word}`)
      : (label ?? decodeEntities(token));
  }
  const url = decodeEntities(target);
  return link(url, [label ?? url]);
}

/** plain_text objects: only :emoji: codes (when `emoji` is not false) are changed. */
export function renderPlain(text: string, emoji: boolean): VNode[] {
  if (!emoji) return [text];
  const out: VNode[] = [];
  let last = 0;
  for (const m of text.matchAll(/:([a-z0-9_+-]+):/g)) {
    const glyph = EMOJI[m[1] ?? ""];
    if (!glyph) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(glyph);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
