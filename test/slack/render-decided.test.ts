import type { KnownBlock, SectionBlock } from "@slack/types";
import { describe, expect, it } from "vitest";
import { renderRequestMessage } from "../../src/slack/render/index.ts";
import { makeContext, makeRequest, vote } from "./render-fixture.ts";

const sectionText = (blocks: KnownBlock[], id: string) =>
  (blocks.find((b) => b.block_id === id) as SectionBlock | undefined)?.text?.text ?? "";
const fields = (blocks: KnownBlock[]) =>
  ((blocks.find((b) => b.block_id === "fields") as SectionBlock | undefined)?.fields ?? []).map(
    (f) => f.text,
  );

const decided = {
  decisions: [vote("U0LEAD1")],
  decided_at: "2026-11-22T10:04:05.123Z",
};

describe("the evidence pack once decided", () => {
  it("pending → shows Expires; approved, rejected, expired, cancelled → no Expires (the status line says what happened)", () => {
    const pending = renderRequestMessage(makeRequest(), makeContext());
    expect(fields(pending.blocks).some((f) => f.startsWith("*Expires*"))).toBe(true);
    for (const [status, resolution] of [
      ["approved", "approved_by_humans"],
      ["rejected", "rejected_by_human"],
      ["expired", "approval_timeout"],
      ["cancelled", "cancelled_by_agent"],
    ] as const) {
      const { blocks } = renderRequestMessage(makeRequest({ status, resolution, ...decided }), makeContext());
      expect(
        fields(blocks).filter((f) => f.startsWith("*Expires*")),
        status,
      ).toEqual([]);
      expect(sectionText(blocks, "status"), status).not.toBe("");
    }
  });

  it("approved with edits → the Parameters block shows the approved params, labelled; the agent's originals are only in the change list", () => {
    const req = makeRequest({
      status: "approved",
      resolution: "approved_by_humans",
      ...decided,
      params: { amount: 75, currency: "USD", card_number: "4111" },
      approved_params: { amount: 60, currency: "USD", card_number: "4111" },
      approved_args_hash: "sha256:edited",
      edited_by: "U0LEAD1",
    });
    const { blocks } = renderRequestMessage(req, makeContext({ redactKeys: ["card_number"] }));
    const params = sectionText(blocks, "params");
    expect(params).toMatch(/^\*Parameters \(as approved, edited\)\*/);
    expect(params).toContain('"amount": 60');
    expect(params).not.toContain('"amount": 75');
    expect(params).not.toContain("4111");
    expect(sectionText(blocks, "edits")).toContain("75");
  });

  it("not edited → the Parameters block is the agent's params under the plain label", () => {
    const { blocks } = renderRequestMessage(makeRequest({ params: { amount: 75 } }), makeContext());
    expect(sectionText(blocks, "params")).toMatch(/^\*Parameters\*\n```\n\{\n {2}"amount": 75/);
  });
});
