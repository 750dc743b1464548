import { afterEach, describe, expect, it } from "vitest";
import { validateMessage } from "../../src/slack/render/index.ts";
import { eventually, type Harness, REFUND, startHarness } from "../support/harness.ts";
import { channelMessage, createPosted, hasButtons, row } from "./helpers.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const RAW = ["<!channel>", "<!here>", "<@U0LEAD1>", "<https://evil.example|click me>"] as const;
const ESCAPED = [
  "&lt;!channel&gt;",
  "&lt;!here&gt;",
  "&lt;@U0LEAD1&gt;",
  "&lt;https://evil.example|click me&gt;",
];
const NASTY = RAW.join(" ");

function expectNoRaw(json: string, raw: readonly string[] = RAW): void {
  for (const r of raw) expect(json, `raw ${r} leaked`).not.toContain(r);
}

describe("agent text is escaped end to end", () => {
  it("request with <!channel>, <!here>, <@U…>, <url|label> in every agent field → posted message, DM, modal and updates carry only &lt;…&gt;", async () => {
    h = await startHarness();
    h.slack.setUsergroup("S0LEADS", []);
    const body = {
      ...REFUND,
      summary: `Refund ${NASTY}`,
      target: `order ${NASTY}`,
      reason: `Because ${NASTY}`,
      params: { amount: 75, note: NASTY, nested: { deeper: NASTY } },
      risk: { tier: "medium", score: 62, reasons: [NASTY] },
      run_id: `run ${NASTY}`.slice(0, 200),
      evidence: [
        { title: NASTY, text: NASTY },
        { title: `md ${NASTY}`, text: `*bold* ${NASTY}`, format: "markdown" },
        { title: `link ${NASTY}`, url: "https://shop.example.com/orders/48213", text: NASTY },
      ],
    };
    const id = await createPosted(h, body);

    const post = h.slack.callsTo("chat.postMessage")[0];
    expect(post?.response.ok).toBe(true);
    const posted = JSON.stringify({ text: post?.args.text, blocks: post?.args.blocks });
    expectNoRaw(posted);
    for (const e of ESCAPED) expect(posted).toContain(e);
    expect(String(post?.args.text)).toContain("&lt;!channel&gt;");

    // The reject modal repeats the summary.
    await h.click("U0LEAD1", "reject", id);
    const opened = await h.slack.waitFor((s) => s.views[0]);
    expectNoRaw(JSON.stringify(opened.view));

    // The escalation DM is the same evidence pack.
    h.clock.advance(15 * 60_000 + 1);
    await h.service.sweepNow();
    await h.settle();
    const r = await row(h, id);
    const dm = h.slack.workspace.message(r.dmChannel!, r.dmTs!);
    expect(dm).toBeDefined();
    expectNoRaw(JSON.stringify({ text: dm?.text, blocks: dm?.blocks }));
    // Thread replies (reminder, escalation notice) mention approvers on purpose; none of the agent's tokens.
    const thread = h.slack.thread("C0SUPPORT", r.slackTs!);
    expect(thread.length).toBeGreaterThan(0);
    for (const reply of thread)
      expectNoRaw(JSON.stringify(reply), ["<!channel>", "<!here>", "<https://evil.example|click me>"]);

    // Rejected with a hostile reason: the final message names the approver, but nothing the agent or the reason sent pings anyone.
    const submitted = await h.submitReject("U0LEAD1", id, `Nope ${NASTY}`);
    expect(submitted.status).toBe(200);
    await eventually(async () => (await row(h!, id)).status === "rejected");
    await h.settle();
    for (const call of h.slack.callsTo("chat.update")) {
      expect(call.response.ok).toBe(true);
      expectNoRaw(JSON.stringify({ text: call.args.text, blocks: call.args.blocks }), [
        "<!channel>",
        "<!here>",
        "<https://evil.example|click me>",
      ]);
    }
    const final = JSON.stringify((await channelMessage(h, id)).blocks);
    expect(final).toContain("Nope &lt;!channel&gt;");
    // The one mention is ours ("Rejected by"), not the agent's.
    expect(final.split("<@U0LEAD1>")).toHaveLength(2);
  });
});

describe("Block Kit limits end to end", () => {
  const bigParams = (n: number) => {
    const params: Record<string, unknown> = { amount: 75 };
    for (let i = 0; i < n; i++)
      params[`key_${String(i).padStart(3, "0")}`] = `value number ${i} with <tags> & things`;
    return params;
  };
  const words = (n: number, seed: string) => `${seed} `.repeat(Math.ceil(n / (seed.length + 1))).slice(0, n);

  it("20 evidence items of 6,000 chars + 300 param keys + 5,000-char summary → posted once within limits, cut with the 'more characters' marker; approve updates it within limits too", async () => {
    h = await startHarness();
    const body = {
      ...REFUND,
      summary: words(5_000, "Summary text that goes on"),
      reason: words(5_000, "Reason & more"),
      params: bigParams(300),
      evidence: Array.from({ length: 20 }, (_, i) => ({
        title: `Evidence item ${i + 1}`,
        text: words(6_000, `line ${i} of the evidence`),
      })),
    };
    const raw = JSON.stringify(body);
    expect(Buffer.byteLength(raw)).toBeGreaterThan(130_000);
    expect(Buffer.byteLength(raw)).toBeLessThan(256 * 1024);

    const id = await createPosted(h, body);
    const posts = h.slack.callsTo("chat.postMessage");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.response.ok).toBe(true);
    const message = await channelMessage(h, id);
    const blocks = message.blocks ?? [];
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(validateMessage(blocks)).toEqual([]);
    const json = JSON.stringify(blocks);
    expect(json).toContain("more characters");
    expect(json).toMatch(/key_000/);
    expect(hasButtons(message)).toBe(true);
    // Every evidence item is either shown or counted.
    const shown = (blocks as { block_id?: string }[]).filter((b) =>
      /^evidence_\d+$/.test(b.block_id ?? ""),
    ).length;
    const more = /and (\d+) more evidence items?/.exec(json);
    expect(shown + Number(more?.[1] ?? 0)).toBe(20);

    await h.click("U0LEAD1", "approve", id);
    await eventually(async () => (await row(h!, id)).status === "approved");
    await h.settle();
    const update = h.slack.callsTo("chat.update")[0];
    expect(update?.response.ok).toBe(true);
    const after = await channelMessage(h, id);
    expect(validateMessage(after.blocks ?? [])).toEqual([]);
    expect(JSON.stringify(after.blocks)).toContain("Approved by <@U0LEAD1>");
    expect(hasButtons(after)).toBe(false);
  });

  it("100 evidence items (the API's maximum) of 2,000 chars → posted within 50 blocks, hidden items counted", async () => {
    h = await startHarness();
    const body = {
      ...REFUND,
      evidence: Array.from({ length: 100 }, (_, i) => ({
        title: `Item ${i + 1} <!here>`,
        text: words(2_000, `evidence ${i}`),
        ...(i % 3 === 0 ? { url: `https://shop.example.com/orders/${i}` } : {}),
      })),
    };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(256 * 1024);
    const id = await createPosted(h, body);
    expect(h.slack.callsTo("chat.postMessage").every((c) => c.response.ok)).toBe(true);
    const message = await channelMessage(h, id);
    const blocks = message.blocks ?? [];
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(validateMessage(blocks)).toEqual([]);
    const json = JSON.stringify(blocks);
    const shown = (blocks as { block_id?: string }[]).filter((b) =>
      /^evidence_\d+$/.test(b.block_id ?? ""),
    ).length;
    const more = /and (\d+) more evidence items?/.exec(json);
    expect(more).not.toBeNull();
    expect(shown + Number(more?.[1])).toBe(100);
    expect(json).not.toContain("<!here>");
  });

  it("dual-approval request at the limits + first approve → the 1-of-2 update stays within limits", async () => {
    h = await startHarness();
    const body = {
      ...REFUND,
      params: { ...bigParams(300), amount: 500 },
      summary: words(5_000, "Large refund"),
      evidence: Array.from({ length: 20 }, (_, i) => ({ title: `E${i}`, text: words(6_000, `x${i}`) })),
    };
    const id = await createPosted(h, body);
    await h.click("U0FIN1", "approve", id);
    await eventually(async () => (await h!.service.deps.store.decisionsFor(id)).length === 1);
    await h.settle();
    const update = h.slack.callsTo("chat.update")[0];
    expect(update?.response.ok, JSON.stringify(update?.response)).toBe(true);
    const message = await channelMessage(h, id);
    expect(validateMessage(message.blocks ?? [])).toEqual([]);
    expect(JSON.stringify(message.blocks)).toContain("1 of 2");
    expect(hasButtons(message)).toBe(true);
  });
});
