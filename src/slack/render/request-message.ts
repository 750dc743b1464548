import type { ActionsBlock, Button, ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from "@slack/types";
import type { RequestResource } from "../../domain/vocabulary.ts";
import { escapeTruncate, joinAnd, slackDate, userMention } from "../mrkdwn.ts";
import { editText, revisionText } from "./changes.ts";
import { type ActionHistory, historyText, whyText } from "./decision-context.ts";
import { evidenceBlock, evidenceLength, planEvidence } from "./evidence.ts";
import { LIMITS, measureBlocks, validateMessage } from "./limits.ts";
import { paramsLength, renderParams } from "./params.ts";
import { approvers, statusText, statusWord } from "./status.ts";

export interface RenderContext {
  /** Param key names (any depth, case-insensitive) shown as "[redacted]". */
  redactKeys: string[];
  /** Approve gets a Slack `confirm` dialog. */
  needsConfirm: boolean;
  /** The manager's user id once the request is escalated. */
  escalatedTo: string | null;
  /** The policy's ttl as written, e.g. "30m", for "Expired — no decision within 30m". */
  ttlText: string;
  nowMs?: number;
  /** Only in the escalation DM: why it came and where the channel message is. */
  escalationDm?: { channel: string; permalink: string | null; escalateAfterText: string | null };
  /** The policy allows approve-with-edits: an "Edit & approve" button. */
  edits?: boolean;
  /** For a revision: the request it revises, to say what changed. */
  revisionOf?: RequestResource | null;
  /** On a revised request: its latest revision and a link to its message, when posted. */
  revisedBy?: { id: string; url: string | null } | null;
  /** The conditions of the matched policy that held, for "why a human". */
  why?: readonly string[] | null;
  /** The agent's recent history for the same action. */
  history?: ActionHistory | null;
}

export interface RenderedMessage {
  /** Plain notification fallback. */
  text: string;
  blocks: KnownBlock[];
}

/**
 * Target for the total text of a message. Slack's real limit (12,000) is
 * undocumented and may count differently from us, so we stay well below it.
 */
export const RENDER_BUDGET = 11_000;
const CAP = {
  header: LIMITS.headerText,
  status: 2000,
  changes: 2000,
  summary: 1500,
  reason: 1000,
  agent: 80,
  target: 300,
  riskReasons: 600,
  progress: 600,
  runId: 100,
  id: 100,
  text: 3000,
} as const;
const PARAMS_MIN = 200;
/** Room left for evidence before params may take the rest. */
const EVIDENCE_RESERVE = 1500;
const MORE_RESERVE = 80;

const mrkdwn = (text: string) => ({ type: "mrkdwn" as const, text });
const plain = (text: string) => ({ type: "plain_text" as const, text });
const section = (block_id: string, text: string): SectionBlock => ({
  type: "section",
  block_id,
  text: mrkdwn(text),
});
const context = (block_id: string, text: string): ContextBlock => ({
  type: "context",
  block_id,
  elements: [mrkdwn(text)],
});

/** Agent text that may be blank still needs something visible: Slack rejects empty text. */
function orPlaceholder(s: string, placeholder: string): string {
  return s.trim() === "" ? placeholder : s;
}

function riskText(req: RequestResource): string | null {
  const risk = req.risk;
  if (!risk) return null;
  const head = [risk.tier, risk.score === undefined ? undefined : `${risk.score}/100`]
    .filter(Boolean)
    .join(" · ");
  const reasons = (risk.reasons ?? []).filter((r) => r.trim() !== "");
  const bullets = reasons.length
    ? escapeTruncate(reasons.map((r) => `• ${r}`).join("\n"), CAP.riskReasons)
    : "";
  const text = [head, bullets].filter(Boolean).join("\n");
  return text === "" ? null : text;
}

function fieldsBlock(req: RequestResource): SectionBlock {
  const fields: [string, string | null][] = [
    ["Agent", escapeTruncate(req.agent, CAP.agent)],
    ["Target", req.target === null ? null : orPlaceholder(escapeTruncate(req.target, CAP.target), "—")],
    ["Risk", riskText(req)],
    ["Requested by", req.on_behalf_of === null ? null : userMention(req.on_behalf_of)],
    // Only while it waits: once decided, the status line says when and how.
    ["Expires", req.status === "pending" ? slackDate(req.expires_at) : null],
    [
      "Approvals",
      req.approvals_required > 1 ? `${approvers(req).length} of ${req.approvals_required}` : null,
    ],
  ];
  return {
    type: "section",
    block_id: "fields",
    fields: fields.flatMap(([label, value]) => (value === null ? [] : [mrkdwn(`*${label}*\n${value}`)])),
  };
}

function actionsBlock(req: RequestResource, ctx: RenderContext): ActionsBlock {
  const approve: Button = {
    type: "button",
    action_id: "approve",
    style: "primary",
    text: plain("Approve"),
    value: req.id,
  };
  if (ctx.needsConfirm) {
    approve.confirm = {
      title: plain("Approve this request?"),
      text: mrkdwn(`${escapeTruncate(req.agent, CAP.agent)} will run *${escapeTruncate(req.action, 150)}*.`),
      confirm: plain("Approve"),
      deny: plain("Cancel"),
    };
  }
  const edit: Button = { type: "button", action_id: "edit", text: plain("Edit & approve"), value: req.id };
  const reject: Button = {
    type: "button",
    action_id: "reject",
    style: "danger",
    text: plain("Reject"),
    value: req.id,
  };
  const elements = ctx.edits === true ? [approve, edit, reject] : [approve, reject];
  return { type: "actions", block_id: "decision", elements };
}

function metaLine(req: RequestResource): string {
  const parts = [
    `Request \`${escapeTruncate(req.id, CAP.id)}\``,
    `Policy \`${escapeTruncate(req.policy, CAP.id)}\``,
  ];
  if (req.run_id !== null && req.run_id !== "")
    parts.push(`Run \`${escapeTruncate(req.run_id, CAP.runId)}\``);
  parts.push(`\`${escapeTruncate(req.args_hash, CAP.id)}\``);
  return parts.join(" · ");
}

function fallbackText(req: RequestResource): string {
  const action = escapeTruncate(req.action, 150);
  const summary = escapeTruncate(req.summary, 300);
  return `${statusWord(req)}: ${action} — ${summary} (${escapeTruncate(req.agent, CAP.agent)})`;
}

/** The evidence pack: the message posted to the role's channel (and the escalation DM), updated as the request moves. */
export function renderRequestMessage(req: RequestResource, ctx: RenderContext): RenderedMessage {
  const pending = req.status === "pending";
  const head: KnownBlock[] = [
    {
      type: "header",
      block_id: "header",
      text: plain(orPlaceholder(escapeTruncate(req.action, CAP.header), "(no action)")),
    } satisfies HeaderBlock,
  ];
  if (ctx.escalationDm) head.push(section("escalation_intro", escalationIntro(req, ctx.escalationDm)));
  const status = statusText(req, ctx.ttlText);
  if (status !== null) head.push(section("status", truncateOwn(status, CAP.status)));
  const edited = editText(req, ctx.redactKeys);
  if (edited !== null) head.push(section("edits", truncateOwn(edited, CAP.changes)));
  const revision = revisionText(req, ctx.revisionOf ?? null, ctx.redactKeys);
  if (revision !== null) head.push(section("revision", truncateOwn(revision, CAP.changes)));
  head.push(section("summary", orPlaceholder(escapeTruncate(req.summary, CAP.summary), "(no summary)")));
  head.push(fieldsBlock(req));
  const decisionContext = [
    ...(ctx.why ? [whyText(req.policy, ctx.why)] : []),
    ...(ctx.history ? [historyText(ctx.history)] : []),
  ];
  if (decisionContext.length > 0) {
    head.push({ type: "context", block_id: "why", elements: decisionContext.map(mrkdwn) });
  }
  if (req.reason !== null && req.reason.trim() !== "") {
    head.push(section("reason", `*Reason*\n${escapeTruncate(req.reason, CAP.reason)}`));
  }

  const tail: KnownBlock[] = [context("meta", metaLine(req))];
  if (ctx.revisedBy) {
    const id = escapeTruncate(ctx.revisedBy.id, CAP.id);
    const link = ctx.revisedBy.url === null ? `\`${id}\`` : `<${ctx.revisedBy.url}|${id}>`;
    tail.push(context("revised_by", `➡️ Revised by ${link}`));
  }
  const approved = approvers(req);
  if (pending && approved.length > 0) {
    const line = `${approved.length} of ${req.approvals_required} approvals — approved by ${joinAnd(approved.map(userMention))}`;
    tail.push(context("progress", truncateOwn(line, CAP.progress)));
  }
  if (pending && ctx.escalatedTo !== null) {
    const when = req.escalated_at === null ? "" : ` · ${slackDate(req.escalated_at)}`;
    tail.push(context("escalated", `:rotating_light: Escalated to ${userMention(ctx.escalatedTo)}${when}`));
  }
  if (pending) tail.push(actionsBlock(req, ctx));

  let remaining = RENDER_BUDGET - measureBlocks([...head, ...tail]).textChars;
  const needs = req.evidence.map(evidenceLength);
  const evidenceNeed = needs.reduce((a, b) => a + b, 0);
  const reserve = needs.length ? Math.min(evidenceNeed, EVIDENCE_RESERVE) + MORE_RESERVE : 0;
  // After Edit & approve the params that will run are the approver's: show those (the edits block says what changed).
  const shown = req.approved_params ?? req.params;
  const label = req.approved_params === null ? undefined : "Parameters (as approved, edited)";
  const paramsRoom = Math.min(LIMITS.sectionText, paramsLength(shown, ctx.redactKeys, label));
  const params = renderParams(
    shown,
    ctx.redactKeys,
    Math.min(paramsRoom, Math.max(remaining - reserve, PARAMS_MIN)),
    label,
  );
  remaining -= params.length;

  // Evidence shares what is left, within the block limit; what does not fit is counted, never dropped silently.
  const maxBlocks = LIMITS.messageBlocks - head.length - 1 - tail.length - 1;
  let shares = planEvidence(needs, remaining, maxBlocks);
  if (shares.length < needs.length) shares = planEvidence(needs, remaining - MORE_RESERVE, maxBlocks);
  const evidence: KnownBlock[] = shares.map((share, i) =>
    evidenceBlock(req.evidence[i] ?? { title: "" }, i, share),
  );
  const hidden = needs.length - shares.length;
  if (hidden > 0) {
    evidence.push(
      context(
        "evidence_more",
        `… and ${hidden} more evidence ${hidden === 1 ? "item" : "items"} (see the API)`,
      ),
    );
  }

  const blocks = [...head, section("params", params), ...evidence, ...tail];
  const message = { text: fallbackText(req), blocks };
  return validateMessage(blocks).length === 0 ? message : minimalMessage(req, head, tail);
}

/** The escalation DM's first lines: why the manager got it, and a link to the channel message. */
function escalationIntro(req: RequestResource, dm: NonNullable<RenderContext["escalationDm"]>): string {
  const role = req.role === null ? "its role" : `role *${escapeTruncate(req.role, 100)}*`;
  const within = dm.escalateAfterText === null ? "in time" : `within ${dm.escalateAfterText}`;
  const where =
    dm.permalink === null
      ? `It was posted in <#${dm.channel}>.`
      : `<${dm.permalink}|Open the channel message> in <#${dm.channel}>.`;
  return truncateOwn(
    `:rotating_light: *Escalated to you*: nobody in ${role} decided ${within}, so you may now approve or reject it. ${where}`,
    CAP.summary,
  );
}

/** Cuts our own mrkdwn (with mentions and dates) without splitting a `<…>` token or an entity. */
function truncateOwn(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max - 1;
  const head = s.slice(0, end);
  if (head.lastIndexOf("<") > head.lastIndexOf(">")) end = head.lastIndexOf("<");
  const kept = s.slice(0, end);
  if (kept.lastIndexOf("&") > kept.lastIndexOf(";")) end = kept.lastIndexOf("&");
  return `${s.slice(0, end)}…`;
}

/**
 * Last resort when the full render breaks a limit (a bug, not agent input):
 * the essentials and a pointer to the API, so the request is still decidable.
 */
function minimalMessage(req: RequestResource, head: KnownBlock[], tail: KnownBlock[]): RenderedMessage {
  const keep = head.filter((b) => b.block_id === "header" || b.block_id === "status");
  const blocks: KnownBlock[] = [
    ...keep,
    section("summary", orPlaceholder(escapeTruncate(req.summary, 1000), "(no summary)")),
    context(
      "fallback",
      `The details of this request are too large to show here; fetch request \`${escapeTruncate(req.id, CAP.id)}\` from the API.`,
    ),
    ...tail.filter((b) => b.block_id === "meta" || b.block_id === "decision"),
  ];
  return { text: fallbackText(req), blocks };
}
