import { describe, expect, it } from "vitest";
import { measureBlocks, validateMessage, validateView } from "../../src/slack/render/index.ts";

const md = (text: string) => ({ type: "mrkdwn", text });
const plain = (text: string) => ({ type: "plain_text", text });
const section = (text: string, block_id?: string) => ({
  type: "section",
  text: md(text),
  ...(block_id ? { block_id } : {}),
});
const button = (over: Record<string, unknown> = {}) => ({
  type: "button",
  action_id: "approve",
  text: plain("Approve"),
  value: "req_1",
  ...over,
});

/** The single violation for `blocks`, asserting there is exactly one. */
function only(blocks: unknown): string {
  const errors = validateMessage(blocks);
  expect(errors).toHaveLength(1);
  return errors[0] ?? "";
}

describe("validateMessage", () => {
  it("accepts a well-formed message", () => {
    expect(
      validateMessage([
        { type: "header", text: plain("refund.issue") },
        section("hello", "a"),
        { type: "section", fields: [md("*Agent*\nbot")] },
        { type: "context", elements: [md("meta")] },
        { type: "divider" },
        { type: "actions", elements: [button(), button({ action_id: "reject", style: "danger" })] },
      ]),
    ).toEqual([]);
  });

  it("more than 50 blocks", () => {
    expect(only(Array.from({ length: 51 }, () => ({ type: "divider" })))).toBe(
      "must have at most 50 blocks (got 51) [json-pointer:/blocks]",
    );
  });

  it("header over 150 characters, or not plain_text", () => {
    expect(only([{ type: "header", text: plain("h".repeat(151)) }])).toBe(
      "must be at most 150 characters (got 151) [json-pointer:/blocks/0/text/text]",
    );
    expect(only([{ type: "header", text: md("h") }])).toMatch(/json-pointer:\/blocks\/0\/text\/type/);
  });

  it("section text empty, over 3000, or missing along with fields", () => {
    expect(only([section("")])).toBe("must be at least 1 characters [json-pointer:/blocks/0/text/text]");
    expect(only([section("x".repeat(3001))])).toBe(
      "must be at most 3000 characters (got 3001) [json-pointer:/blocks/0/text/text]",
    );
    expect(validateMessage([section("x".repeat(3000))])).toEqual([]);
    expect(only([{ type: "section" }])).toBe("must have text or fields [json-pointer:/blocks/0]");
  });

  it("more than 10 fields, or a field over 2000", () => {
    expect(only([{ type: "section", fields: Array.from({ length: 11 }, () => md("f")) }])).toBe(
      "must have at most 10 items (got 11) [json-pointer:/blocks/0/fields]",
    );
    expect(only([{ type: "section", fields: [md("f"), md("x".repeat(2001))] }])).toBe(
      "must be at most 2000 characters (got 2001) [json-pointer:/blocks/0/fields/1/text]",
    );
  });

  it("context with more than 10 elements", () => {
    expect(only([{ type: "context", elements: Array.from({ length: 11 }, () => md("c")) }])).toBe(
      "must have at most 10 items (got 11) [json-pointer:/blocks/0/elements]",
    );
  });

  it("actions with more than 25 elements", () => {
    const elements = Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` }));
    expect(only([{ type: "actions", elements }])).toBe(
      "must have at most 25 items (got 26) [json-pointer:/blocks/0/elements]",
    );
  });

  it("button text over 75, value over 2000, duplicate action_id, confirm text over 300", () => {
    expect(only([{ type: "actions", elements: [button({ text: plain("b".repeat(76)) })] }])).toBe(
      "must be at most 75 characters (got 76) [json-pointer:/blocks/0/elements/0/text/text]",
    );
    expect(only([{ type: "actions", elements: [button({ value: "v".repeat(2001) })] }])).toBe(
      "must be at most 2000 characters (got 2001) [json-pointer:/blocks/0/elements/0/value]",
    );
    expect(only([{ type: "actions", elements: [button(), button()] }])).toBe(
      "must be unique in the block [json-pointer:/blocks/0/elements/1/action_id]",
    );
    expect(
      only([{ type: "actions", elements: [button({ confirm: { text: plain("c".repeat(301)) } })] }]),
    ).toBe("must be at most 300 characters (got 301) [json-pointer:/blocks/0/elements/0/confirm/text/text]");
  });

  it("duplicate block_id, or block_id over 255", () => {
    expect(only([section("a", "same"), section("b", "same")])).toBe(
      "must be unique [json-pointer:/blocks/1/block_id]",
    );
    expect(only([section("a", "b".repeat(256))])).toBe(
      "must be at most 255 characters (got 256) [json-pointer:/blocks/0/block_id]",
    );
  });

  it("total text over 12,000 (msg_blocks_too_long) although each block is fine", () => {
    const blocks = Array.from({ length: 5 }, () => section("x".repeat(2500)));
    expect(measureBlocks(blocks)).toEqual({ blocks: 5, textChars: 12_500 });
    expect(only(blocks)).toMatch(/^msg_blocks_too_long: text totals 12500 characters/);
    expect(validateMessage(blocks.slice(0, 4))).toEqual([]);
  });

  it("counts button and confirm text in the total", () => {
    const blocks = [
      {
        type: "actions",
        elements: [
          button({ confirm: { title: plain("t"), text: md("xy"), confirm: plain("ok"), deny: plain("no") } }),
        ],
      },
    ];
    expect(measureBlocks(blocks).textChars).toBe("Approve".length + 1 + 2 + 2 + 2);
  });

  it("reports several violations at once, and rejects a non-array", () => {
    expect(validateMessage([section(""), { type: "header", text: plain("h".repeat(200)) }])).toHaveLength(2);
    expect(validateMessage({})).toEqual(["must be an array [json-pointer:/blocks]"]);
  });
});

describe("validateView", () => {
  const view = (over: Record<string, unknown> = {}) => ({
    type: "modal",
    callback_id: "reject",
    title: plain("Reject request"),
    submit: plain("Reject"),
    close: plain("Cancel"),
    blocks: [
      {
        type: "input",
        block_id: "reason",
        label: plain("Reason"),
        element: { type: "plain_text_input", action_id: "reason" },
      },
    ],
    ...over,
  });

  it("accepts a well-formed modal", () => {
    expect(validateView(view())).toEqual([]);
  });

  it("title over 24, missing submit with an input, private_metadata over 3000", () => {
    expect(validateView(view({ title: plain("t".repeat(25)) }))).toEqual([
      "must be at most 24 characters (got 25) [json-pointer:/view/title/text]",
    ]);
    expect(validateView(view({ submit: undefined }))).toEqual([
      "is required when the view has input blocks [json-pointer:/view/submit]",
    ]);
    expect(validateView(view({ private_metadata: "m".repeat(3001) }))).toEqual([
      "must be at most 3000 characters (got 3001) [json-pointer:/view/private_metadata]",
    ]);
  });
});
