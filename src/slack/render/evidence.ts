import type { SectionBlock } from "@slack/types";
import type { EvidenceItem } from "../../domain/vocabulary.ts";
import { escapeMrkdwn, escapeTruncate, isSafeUrl, safeLink } from "../mrkdwn.ts";
import { LIMITS } from "./limits.ts";

/** Below this many characters an evidence item is not worth showing; it is counted as "more". */
export const MIN_EVIDENCE_CHARS = 300;
const TITLE_MAX = 200;

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

/** The item's first line: the bold title, as a link when the URL is safe and fits. */
function titleLine(item: EvidenceItem, max: number): string {
  const title = item.title.trim() === "" ? "(untitled)" : item.title;
  const titleRoom = Math.min(TITLE_MAX, max - 2);
  if (item.url !== undefined) {
    const host = hostOf(item.url);
    const link = safeLink(item.url, title.length > TITLE_MAX ? `${title.slice(0, TITLE_MAX - 1)}…` : title);
    const line = link === null ? null : `*${link}*${host ? ` (${escapeMrkdwn(host)})` : ""}`;
    // The link only if it leaves the text a fair part of the room.
    const textNeed = item.text ? Math.min(escapeMrkdwn(item.text).length + 1, Math.floor(max * 0.4)) : 0;
    if (line !== null && line.length + textNeed <= max) return line;
    // Unsafe or too long for the room: the title, then the URL as plain escaped text.
    const head = `*${escapeTruncate(title, titleRoom)}*`;
    const urlRoom = max - head.length - 1;
    if (urlRoom < 20) return head;
    const why = isSafeUrl(item.url) ? "" : " (not a web link)";
    return `${head}\n${escapeTruncate(item.url, urlRoom - why.length)}${why}`;
  }
  return `*${escapeTruncate(title, titleRoom)}*`;
}

/** One evidence item as mrkdwn, at most `max` characters. */
export function renderEvidenceText(item: EvidenceItem, max: number): string {
  const head = titleLine(item, max);
  const text = item.text ?? "";
  if (text === "" || max - head.length - 1 < 1) return head;
  return `${head}\n${escapeTruncate(text, max - head.length - 1)}`;
}

/** The length of the item rendered with no limit other than Slack's section limit. */
export function evidenceLength(item: EvidenceItem): number {
  return renderEvidenceText(item, LIMITS.sectionText).length;
}

export function evidenceBlock(item: EvidenceItem, index: number, max: number): SectionBlock {
  return {
    type: "section",
    block_id: `evidence_${index}`,
    // Plain evidence is shown as sent: verbatim stops Slack from auto-linking names and URLs in it.
    text: {
      type: "mrkdwn",
      text: renderEvidenceText(item, max),
      ...(item.format === "markdown" ? {} : { verbatim: true }),
    },
  };
}

/**
 * How many of the items (in order) fit into `budget` characters and `maxBlocks`
 * blocks, and each one's share: short items take what they need, long ones
 * split the rest evenly (water-filling).
 */
export function planEvidence(needs: readonly number[], budget: number, maxBlocks: number): number[] {
  const floors: number[] = [];
  let used = 0;
  for (const need of needs) {
    const floor = Math.min(need, MIN_EVIDENCE_CHARS);
    if (floors.length >= maxBlocks || used + floor > budget) break;
    floors.push(floor);
    used += floor;
  }
  const shown = needs.slice(0, floors.length).map((n) => Math.min(n, LIMITS.sectionText));
  const shares = new Array<number>(shown.length).fill(0);
  let left = budget;
  let open = shown.map((_, i) => i);
  while (open.length > 0) {
    const fair = Math.floor(left / open.length);
    const satisfied = open.filter((i) => (shown[i] ?? 0) <= fair);
    if (satisfied.length === 0) {
      for (const i of open) shares[i] = fair;
      break;
    }
    for (const i of satisfied) {
      shares[i] = shown[i] ?? 0;
      left -= shares[i] ?? 0;
    }
    open = open.filter((i) => !satisfied.includes(i));
  }
  return shares;
}
