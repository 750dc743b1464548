import type { ActionsBlock, Button, ContextBlock, KnownBlock, SectionBlock } from "@slack/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RequestResource } from "../../src/domain/vocabulary.ts";
import {
  LIMITS,
  measureBlocks,
  renderRequestMessage,
  validateMessage,
} from "../../src/slack/render/index.ts";
import { makeContext, makeRequest, vote } from "./render-fixture.ts";

const EVIL = "<!channel> <!here> <!everyone> <@U123> <#C999> <http://evil|click> <!subteam^S1> & done";

function block(blocks: KnownBlock[], id: string): KnownBlock | undefined {
  return blocks.find((b) => b.block_id === id);
}

function sectionText(blocks: KnownBlock[], id: string): string {
  const b = block(blocks, id) as SectionBlock | undefined;
  return b?.text?.text ?? "";
}

function contextText(blocks: KnownBlock[], id: string): string {
  const b = block(blocks, id) as ContextBlock | undefined;
  const el = b?.elements[0];
  return el && "text" in el ? el.text : "";
}

function fieldTexts(blocks: KnownBlock[]): string[] {
  return ((block(blocks, "fields") as SectionBlock | undefined)?.fields ?? []).map((f) => f.text);
}

/** Every `text` string in the blocks. */
function allTexts(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(allTexts);
  if (typeof v !== "object" || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => (k === "text" && typeof x === "string" ? [x] : allTexts(x)));
}

/** Every `<…>` token is one we made: a known user, a date, a group, or an http(s) link. */
function foreignTokens(texts: string[], allowedUsers: string[]): string[] {
  const ok = (t: string) =>
    /^<!date\^\d+\^[^|<>]*\|[^|<>]*>$/.test(t) ||
    /^<https?:\/\/[^|<>\s]+\|[^<>]*>$/.test(t) ||
    allowedUsers.some((u) => t === `<@${u}>`);
  return texts.flatMap((s) => s.match(/<[^>]*>?/g) ?? []).filter((t) => !ok(t));
}

/** `&` not starting one of the three entities. */
function bareAmpersands(texts: string[]): string[] {
  return texts.filter((s) => /&(?!amp;|lt;|gt;)/.test(s));
}

const ctx = makeContext();

/** Valid for Slack, and rendered in full (not the last-resort minimal message). */
function expectValid(m: { blocks: KnownBlock[] }): void {
  expect(validateMessage(m.blocks)).toEqual([]);
  expect(block(m.blocks, "fallback")).toBeUndefined();
  expect(block(m.blocks, "params")).toBeDefined();
}

const moreLine = (n: number) => `… and ${n} more evidence ${n === 1 ? "item" : "items"} (see the API)`;

describe("renderRequestMessage — agent text is never acted on", () => {
  const evilRequest = (overrides: Partial<RequestResource> = {}) =>
    makeRequest({
      action: `refund ${EVIL}`,
      summary: `Summary ${EVIL}`,
      target: `Target ${EVIL}`,
      reason: `Reason ${EVIL}`,
      params: { [`key ${EVIL}`]: `value ${EVIL}`, nested: { list: [EVIL] } },
      risk: { tier: "high", score: 90, reasons: [`risk ${EVIL}`] },
      evidence: [
        { title: `title ${EVIL}`, text: `text ${EVIL}` },
        { title: `md ${EVIL}`, text: `*bold* ${EVIL}`, format: "markdown" },
        { title: `link ${EVIL}`, url: "https://shop.example.com/orders/1?a=1&b=2" },
        { title: "bad link", url: "http://evil|click" },
        { title: "script", url: "javascript:alert(1)" },
      ],
      run_id: `run ${EVIL}`,
      on_behalf_of: `<@U123>`,
      agent: `bot ${EVIL}`,
      ...overrides,
    });

  it("pending: escapes every agent field; the only tokens are ours", () => {
    const m = renderRequestMessage(evilRequest(), makeContext({ needsConfirm: true }));
    const texts = [m.text, ...allTexts(m.blocks)];
    const json = JSON.stringify(m);
    for (const attack of [
      "<!channel",
      "<!here",
      "<!everyone",
      "<@U123",
      "<#C999",
      "<http://evil",
      "<!subteam",
    ]) {
      expect(json).not.toContain(attack);
    }
    expect(foreignTokens(texts, [])).toEqual([]);
    expect(bareAmpersands(texts)).toEqual([]);
    expectValid(m);
    // The escaped text is still there to read.
    expect(sectionText(m.blocks, "summary")).toContain("&lt;!channel&gt;");
    expect(fieldTexts(m.blocks)).toContain("*Requested by*\n&lt;@U123&gt;");
    expect(m.text).toContain("&lt;!here&gt;");
  });

  it("final: rejection comment and outcome detail are escaped too", () => {
    const req = evilRequest({
      status: "rejected",
      resolution: "rejected_by_human",
      decisions: [vote("U0LEAD1", "reject", `comment ${EVIL}`)],
      decided_at: "2026-11-22T10:05:00.000Z",
      outcome: { status: "failed", detail: `detail ${EVIL}`, at: "2026-11-22T10:06:00.000Z" },
    });
    const m = renderRequestMessage(req, ctx);
    const texts = [m.text, ...allTexts(m.blocks)];
    expect(JSON.stringify(m)).not.toMatch(/<!(channel|here|everyone)|<@U123|<http:\/\/evil/);
    expect(foreignTokens(texts, ["U0LEAD1"])).toEqual([]);
    expect(bareAmpersands(texts)).toEqual([]);
  });

  it("evidence: safe URLs become links, unsafe ones are plain escaped text", () => {
    const m = renderRequestMessage(evilRequest(), ctx);
    expect(sectionText(m.blocks, "evidence_2")).toMatch(
      /^\*<https:\/\/shop\.example\.com\/orders\/1\?a=1&amp;b=2\|link &lt;!channel&gt;[^>]*>\* \(shop\.example\.com\)$/,
    );
    expect(sectionText(m.blocks, "evidence_3")).toBe("*bad link*\nhttp://evil|click (not a web link)");
    expect(sectionText(m.blocks, "evidence_4")).toBe("*script*\njavascript:alert(1) (not a web link)");
  });

  it("evidence: markdown keeps formatting (not verbatim); plain is verbatim", () => {
    const m = renderRequestMessage(evilRequest(), ctx);
    const plain = block(m.blocks, "evidence_0") as SectionBlock;
    const md = block(m.blocks, "evidence_1") as SectionBlock;
    expect(plain.text).toMatchObject({ type: "mrkdwn", verbatim: true });
    expect(md.text?.type).toBe("mrkdwn");
    expect(md.text && "verbatim" in md.text).toBe(false);
    expect(md.text?.text).toContain("*bold* &lt;!channel&gt;");
  });
});

describe("renderRequestMessage — pending evidence pack", () => {
  it("has header, summary, fields, reason, params, evidence, meta and buttons in order", () => {
    const m = renderRequestMessage(makeRequest(), ctx);
    expect(m.blocks.map((b) => b.block_id)).toEqual([
      "header",
      "summary",
      "fields",
      "reason",
      "params",
      "evidence_0",
      "evidence_1",
      "evidence_2",
      "meta",
      "decision",
    ]);
    expect(m.blocks[0]).toEqual({
      type: "header",
      block_id: "header",
      text: { type: "plain_text", text: "refund.issue" },
    });
    expect(fieldTexts(m.blocks)).toEqual([
      "*Agent*\nsupport-bot",
      "*Target*\norder #48213",
      "*Risk*\nmedium · 62/100\n• amount over $50",
      "*Requested by*\n<@U0REQUESTER>",
      "*Expires*\n<!date^1795343400^{date_short_pretty} at {time}|2026-11-22T10:30:00.000Z>",
    ]);
    expect(sectionText(m.blocks, "reason")).toBe(
      "*Reason*\nProduct has a known defect; within the 30-day window",
    );
    expect(contextText(m.blocks, "meta")).toBe(
      "Request `req_01JDX5` · Policy `medium-refunds` · Run `run_7f3a` · `sha256:9f2c7d6b1e0a`",
    );
    expect(m.text).toBe(
      "Approval needed: refund.issue — Refund $75 to Dana Ruiz for a defective blender (support-bot)",
    );
    expectValid(m);
  });

  it("params are pretty JSON in a code block", () => {
    const m = renderRequestMessage(makeRequest(), ctx);
    expect(sectionText(m.blocks, "params")).toBe(
      '*Parameters*\n```\n{\n  "amount": 75,\n  "currency": "USD",\n  "order_id": "48213"\n}\n```',
    );
  });

  it("buttons: approve (primary) and reject (danger) carry the request id; no confirm unless asked", () => {
    const m = renderRequestMessage(makeRequest(), makeContext({ needsConfirm: false }));
    const actions = block(m.blocks, "decision") as ActionsBlock;
    expect(actions.type).toBe("actions");
    expect(actions.elements).toEqual([
      {
        type: "button",
        action_id: "approve",
        style: "primary",
        text: { type: "plain_text", text: "Approve" },
        value: "req_01JDX5",
      },
      {
        type: "button",
        action_id: "reject",
        style: "danger",
        text: { type: "plain_text", text: "Reject" },
        value: "req_01JDX5",
      },
    ]);
  });

  it("buttons: needsConfirm adds a confirm dialog to Approve only", () => {
    const m = renderRequestMessage(makeRequest(), makeContext({ needsConfirm: true }));
    const [approve, reject] = (block(m.blocks, "decision") as ActionsBlock).elements as Button[];
    expect(approve?.confirm).toEqual({
      title: { type: "plain_text", text: "Approve this request?" },
      text: { type: "mrkdwn", text: "support-bot will run *refund.issue*." },
      confirm: { type: "plain_text", text: "Approve" },
      deny: { type: "plain_text", text: "Cancel" },
    });
    expect(reject?.confirm).toBeUndefined();
    expectValid(m);
  });

  it("pending with 1 of 2 approvals shows the progress line and keeps the buttons", () => {
    const req = makeRequest({ approvals_required: 2, decisions: [vote("U0LEAD1")] });
    const m = renderRequestMessage(req, ctx);
    expect(contextText(m.blocks, "progress")).toBe("1 of 2 approvals — approved by <@U0LEAD1>");
    expect(fieldTexts(m.blocks)).toContain("*Approvals*\n1 of 2");
    expect(block(m.blocks, "decision")?.type).toBe("actions");
  });

  it("approvals field says 0 of 2 before anyone voted, and is absent for a single approval", () => {
    expect(fieldTexts(renderRequestMessage(makeRequest({ approvals_required: 2 }), ctx).blocks)).toContain(
      "*Approvals*\n0 of 2",
    );
    expect(
      fieldTexts(renderRequestMessage(makeRequest(), ctx).blocks).some((f) => f.startsWith("*Approvals*")),
    ).toBe(false);
    expect(block(renderRequestMessage(makeRequest(), ctx).blocks, "progress")).toBeUndefined();
  });

  it("pending + escalated shows who it went to; once final the line is gone", () => {
    const escalated = makeRequest({ escalated_at: "2026-11-22T10:15:00.000Z" });
    const m = renderRequestMessage(escalated, makeContext({ escalatedTo: "U0MANAGER" }));
    expect(contextText(m.blocks, "escalated")).toMatch(
      /^:rotating_light: Escalated to <@U0MANAGER> · <!date\^/,
    );
    const expired = { ...escalated, status: "expired" as const, resolution: "approval_timeout" as const };
    expect(
      block(renderRequestMessage(expired, makeContext({ escalatedTo: "U0MANAGER" })).blocks, "escalated"),
    ).toBeUndefined();
  });

  it("optional fields are left out when the agent did not send them", () => {
    const m = renderRequestMessage(
      makeRequest({ target: null, risk: null, on_behalf_of: null, reason: null, run_id: null }),
      ctx,
    );
    expect(fieldTexts(m.blocks).map((f) => f.split("\n")[0])).toEqual(["*Agent*", "*Expires*"]);
    expect(block(m.blocks, "reason")).toBeUndefined();
    expect(contextText(m.blocks, "meta")).not.toContain("Run");
  });

  it("blank agent text never produces an empty section", () => {
    const m = renderRequestMessage(
      makeRequest({
        action: "   ",
        summary: "",
        target: "",
        reason: " ",
        evidence: [{ title: " ", text: "" }],
      }),
      ctx,
    );
    expectValid(m);
    expect(allTexts(m.blocks).every((t) => t.trim().length > 0)).toBe(true);
  });
});

describe("renderRequestMessage — redaction", () => {
  it("replaces configured keys at any depth, case-insensitively, and nothing else", () => {
    const params = {
      amount: 75,
      customer: { payment: { Card_Number: "4111111111111111", last4: "1111" } },
      items: [{ secret: { deep: "s3cr3t" } }, { name: "blender" }],
      secret_note: "keep me",
    };
    const m = renderRequestMessage(
      makeRequest({ params }),
      makeContext({ redactKeys: ["card_number", "SECRET"] }),
    );
    const text = sectionText(m.blocks, "params");
    expect(text).toContain('"Card_Number": "[redacted]"');
    expect(text).toContain('"secret": "[redacted]"');
    expect(text).toContain('"last4": "1111"');
    expect(text).toContain('"secret_note": "keep me"');
    expect(text).not.toContain("4111111111111111");
    expect(text).not.toContain("s3cr3t");
    expect(JSON.stringify(m)).not.toContain("4111111111111111");
  });
});

describe("renderRequestMessage — final states", () => {
  const final = (overrides: Partial<RequestResource>) =>
    renderRequestMessage(makeRequest({ decided_at: "2026-11-22T10:05:00.000Z", ...overrides }), ctx);

  const expectFinal = (m: ReturnType<typeof renderRequestMessage>) => {
    expect(m.blocks.some((b) => b.type === "actions")).toBe(false);
    expect(m.blocks[1]?.block_id).toBe("status");
    expectValid(m);
  };

  it("approved by two humans", () => {
    const m = final({
      status: "approved",
      resolution: "approved_by_humans",
      approvals_required: 2,
      decisions: [vote("U0LEAD1"), vote("U0LEAD2")],
    });
    expectFinal(m);
    expect(sectionText(m.blocks, "status")).toBe(
      "✅ Approved by <@U0LEAD1> and <@U0LEAD2> · <!date^1795341900^{date_short_pretty} at {time}|2026-11-22T10:05:00.000Z>",
    );
    expect(block(m.blocks, "progress")).toBeUndefined();
    expect(m.text).toMatch(/^Approved: refund\.issue — /);
  });

  it("rejected by a human, with the reason quoted and escaped", () => {
    const m = final({
      status: "rejected",
      resolution: "rejected_by_human",
      decisions: [vote("U0LEAD1", "reject", "Not covered <!here> & no receipt\nsecond line")],
    });
    expectFinal(m);
    expect(sectionText(m.blocks, "status")).toMatch(
      /^❌ Rejected by <@U0LEAD1> · <!date\^1795341900\^[^>]+>\n>Not covered &lt;!here&gt; &amp; no receipt\n>second line$/,
    );
    expect(m.text).toMatch(/^Rejected: /);
  });

  it("expired", () => {
    const m = final({ status: "expired", resolution: "approval_timeout" });
    expectFinal(m);
    expect(sectionText(m.blocks, "status")).toBe("⏰ Expired — no decision within 30m");
    expect(m.text).toMatch(/^Expired: /);
  });

  it("cancelled by the agent", () => {
    const m = final({ status: "cancelled", resolution: "cancelled_by_agent" });
    expectFinal(m);
    expect(sectionText(m.blocks, "status")).toMatch(/^🚫 Cancelled by the agent · <!date\^/);
  });

  it("approved and rejected by policy", () => {
    const approved = final({ status: "approved", resolution: "approved_by_policy", policy: "small-refunds" });
    expectFinal(approved);
    expect(sectionText(approved.blocks, "status")).toMatch(/^✅ Approved by policy `small-refunds`/);
    const rejected = final({ status: "rejected", resolution: "rejected_by_policy", policy: "blocked" });
    expectFinal(rejected);
    expect(sectionText(rejected.blocks, "status")).toMatch(/^❌ Rejected by policy `blocked`/);
  });

  it("outcome succeeded / failed is shown under the decision", () => {
    const base = {
      status: "approved" as const,
      resolution: "approved_by_humans" as const,
      decisions: [vote("U0LEAD1")],
    };
    const ok = final({
      ...base,
      outcome: { status: "succeeded", detail: null, at: "2026-11-22T10:06:00.000Z" },
    });
    expectFinal(ok);
    expect(sectionText(ok.blocks, "status").split("\n")[1]).toMatch(/^✅ Executed · <!date\^1795341960\^/);
    const failed = final({
      ...base,
      outcome: { status: "failed", detail: "gateway <timeout> & retry", at: "2026-11-22T10:06:00.000Z" },
    });
    expect(sectionText(failed.blocks, "status").split("\n")[1]).toMatch(
      /^⚠️ Failed: gateway &lt;timeout&gt; &amp; retry · <!date\^/,
    );
  });

  it("a final status without a resolution still says what happened", () => {
    const m = final({ status: "expired", resolution: null });
    expectFinal(m);
    expect(sectionText(m.blocks, "status")).toBe("⏰ Expired — no decision within 30m");
  });
});

describe("renderRequestMessage — limits hold whatever the agent sends", () => {
  const hugeParams = () => {
    const params: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) params[`key_${i}`] = { value: `v${"x".repeat(40)}`, n: i };
    return params;
  };

  it("20 evidence items of 6,000 chars + 300 params + 5,000-char summary + 200-char action", () => {
    const req = makeRequest({
      action: "a".repeat(200),
      summary: "s".repeat(5000),
      params: hugeParams(),
      evidence: Array.from({ length: 20 }, (_, i) => ({ title: `Item ${i}`, text: "e".repeat(6000) })),
    });
    const m = renderRequestMessage(req, makeContext({ needsConfirm: true }));
    expectValid(m);
    expect(measureBlocks(m.blocks).textChars).toBeLessThanOrEqual(LIMITS.totalText);
    const header = m.blocks[0] as { text: { text: string } };
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    expect(header.text.text).toMatch(/… \(\d+ more characters\)$/);
    expect(sectionText(m.blocks, "summary")).toMatch(/… \(\d+ more characters\)$/);
    expect(sectionText(m.blocks, "params")).toMatch(/… \(\d+ more characters\)\n```$/);
    expect(sectionText(m.blocks, "evidence_0")).toMatch(/^\*Item 0\*\ne+… \(\d+ more characters\)$/);
    // Everything not shown is accounted for.
    const shown = m.blocks.filter(
      (b) => b.block_id?.startsWith("evidence_") && b.block_id !== "evidence_more",
    ).length;
    expect(shown).toBeGreaterThanOrEqual(10);
    if (shown === 20) expect(block(m.blocks, "evidence_more")).toBeUndefined();
    else expect(contextText(m.blocks, "evidence_more")).toBe(moreLine(20 - shown));
    expect(block(m.blocks, "decision")).toBeDefined();
    expect(block(m.blocks, "meta")).toBeDefined();
  });

  it("text that grows when escaped (all < and &) still fits", () => {
    const req = makeRequest({
      action: "<".repeat(200),
      summary: "&".repeat(5000),
      reason: ">".repeat(5000),
      target: "<".repeat(5000),
      params: { s: "<&>".repeat(5000) },
      risk: { tier: "critical", score: 100, reasons: Array.from({ length: 50 }, () => "&".repeat(1000)) },
      evidence: Array.from({ length: 20 }, () => ({
        title: "<".repeat(500),
        text: "&".repeat(6000),
        url: `https://e.example/${"&".repeat(2900)}`,
      })),
      run_id: "&".repeat(5000),
    });
    const m = renderRequestMessage(req, makeContext({ needsConfirm: true }));
    expectValid(m);
    expect(bareAmpersands(allTexts(m.blocks))).toEqual([]);
    expect(m.text.length).toBeLessThanOrEqual(3000);
  });

  it("more evidence items than blocks allow: shows what fits and counts the rest", () => {
    const req = makeRequest({
      evidence: Array.from({ length: 80 }, (_, i) => ({ title: `E${i}`, text: "short" })),
    });
    const m = renderRequestMessage(req, ctx);
    expectValid(m);
    expect(m.blocks.length).toBe(LIMITS.messageBlocks);
    const shown = m.blocks.filter((b) => /^evidence_\d+$/.test(b.block_id ?? "")).length;
    expect(shown).toBeGreaterThan(30);
    expect(contextText(m.blocks, "evidence_more")).toBe(moreLine(80 - shown));
  });

  it("a final rejected request with a 2,000-char comment and every field long stays valid", () => {
    const req = makeRequest({
      status: "rejected",
      resolution: "rejected_by_human",
      approvals_required: 5,
      decisions: [
        vote("U0A1"),
        vote("U0A2"),
        vote("U0A3"),
        vote("U0A4"),
        vote("U0LEAD1", "reject", "<\n".repeat(1000)),
      ],
      summary: "s".repeat(5000),
      evidence: Array.from({ length: 40 }, () => ({ title: "t".repeat(500), text: "x".repeat(6000) })),
      outcome: null,
    });
    const m = renderRequestMessage(req, ctx);
    expectValid(m);
    expect(sectionText(m.blocks, "status")).toMatch(/^❌ Rejected by <@U0LEAD1>/);
  });

  it("property: any request renders to a message Slack accepts, with no agent-made tokens", () => {
    const text = (max: number) => fc.string({ unit: "binary", maxLength: max });
    const nasty = (max: number) =>
      fc.oneof(
        text(max),
        fc.constantFrom(EVIL, "&".repeat(max), "<".repeat(max), "```", ""),
        fc.string({
          unit: fc.constantFrom("<", ">", "&", "!", "@", "U", "|", "\n", "`", "*", "a"),
          maxLength: max,
        }),
      );
    const arb = fc.record({
      action: nasty(400),
      summary: nasty(8000),
      target: fc.option(nasty(3000)),
      reason: fc.option(nasty(6000)),
      params: fc.dictionary(nasty(50), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 50 }),
      evidence: fc.array(
        fc.record(
          {
            title: nasty(500),
            text: nasty(8000),
            url: fc.oneof(fc.webUrl(), nasty(300)),
            format: fc.constantFrom("plain" as const, "markdown" as const),
          },
          { requiredKeys: ["title"] },
        ),
        { maxLength: 60 },
      ),
      run_id: fc.option(nasty(300)),
      on_behalf_of: fc.option(nasty(40)),
      approvals_required: fc.integer({ min: 1, max: 5 }),
      needsConfirm: fc.boolean(),
      pending: fc.boolean(),
    });
    fc.assert(
      fc.property(arb, ({ needsConfirm, pending, ...fields }) => {
        const req = makeRequest({
          ...fields,
          ...(pending
            ? {}
            : {
                status: "rejected",
                resolution: "rejected_by_human",
                decisions: [vote("U0LEAD1", "reject", fields.summary.slice(0, 2000))],
              }),
        });
        const m = renderRequestMessage(
          req,
          makeContext({ needsConfirm, escalatedTo: "U0MANAGER", redactKeys: ["token"] }),
        );
        expectValid(m);
        expect(m.text.length).toBeLessThanOrEqual(3000);
        const texts = [m.text, ...allTexts(m.blocks)];
        expect(foreignTokens(texts, ["U0LEAD1", "U0MANAGER", "U0REQUESTER"])).toEqual([]);
        expect(bareAmpersands(texts)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
