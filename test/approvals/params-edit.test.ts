import { describe, expect, it } from "vitest";
import { diffParams, editableJson, parseEditedParams } from "../../src/approvals/params-edit.ts";
import { approvedArgsHash, approversOfVersion } from "../../src/domain/approved-version.ts";
import { changeLines } from "../../src/slack/render/changes.ts";

const KEYS = ["card_number", "Token"];
const PARAMS = {
  amount: 75,
  card_number: "4111111111111111",
  payee: { name: "Dana", token: "tok_secret" },
  lines: [{ sku: "A", token: "tok_line" }],
};

describe("editing params with redacted keys", () => {
  it("the editor shows the params without redacted keys, at any depth and in any case", () => {
    const shown = editableJson(PARAMS, KEYS);
    expect(JSON.parse(shown)).toEqual({ amount: 75, payee: { name: "Dana" }, lines: [{ sku: "A" }] });
    expect(shown).not.toContain("tok_");
    expect(shown).not.toContain("4111");
  });

  it("a submission gets the redacted values back where their parent is kept", () => {
    const edit = parseEditedParams(
      JSON.stringify({ amount: 60, payee: { name: "Dana R." }, lines: [{ sku: "B" }] }),
      PARAMS,
      KEYS,
    );
    expect(edit).toMatchObject({
      ok: true,
      params: {
        amount: 60,
        card_number: "4111111111111111",
        payee: { name: "Dana R.", token: "tok_secret" },
        lines: [{ sku: "B", token: "tok_line" }],
      },
    });
  });

  it("typing a redacted key in is refused, naming where", () => {
    const edit = parseEditedParams('{"amount": 1, "payee": {"TOKEN": "x"}}', PARAMS, KEYS);
    expect(edit).toEqual({ ok: false, message: expect.stringContaining("payee.TOKEN is redacted") });
  });
});

describe("key-by-key changes", () => {
  it("diffParams lists changed, added and removed leaves by path", () => {
    expect(
      diffParams({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: 1, b: { c: 4 }, e: [1, 2], f: true }),
    ).toEqual([
      { path: "b.c", before: 2, after: 4 },
      { path: "b.d", before: 3 },
      { path: "e", before: [1], after: [1, 2] },
      { path: "f", after: true },
    ]);
  });

  it("changeLines names a change under a redacted key without its values, and redacts values it shows", () => {
    const lines = changeLines(
      PARAMS,
      { ...PARAMS, card_number: "5555444433332222", extra: { token: "tok_new", memo: "<!channel>" } },
      KEYS,
    );
    const text = lines.join("\n");
    expect(text).toContain("• `card_number` changed ([redacted])");
    expect(text).toContain("`extra` added");
    expect(text).not.toMatch(/5555|4111|tok_new/);
    expect(text).toContain("&lt;!channel&gt;");
  });
});

describe("the approved version", () => {
  it("approvedArgsHash is the edited hash after an edit, else args_hash; only votes on it count", () => {
    const row = { argsHash: "sha256:a", approvedArgsHash: null };
    const edited = { argsHash: "sha256:a", approvedArgsHash: "sha256:b" };
    const votes = [
      { decision: "approve" as const, approverId: "U1", argsHash: "sha256:a" },
      { decision: "approve" as const, approverId: "U2", argsHash: "sha256:b" },
      { decision: "approve" as const, approverId: "U3", argsHash: null },
    ];
    expect(approvedArgsHash(row)).toBe("sha256:a");
    expect(approvedArgsHash(edited)).toBe("sha256:b");
    expect(approversOfVersion(row, votes)).toEqual(["U1", "U3"]);
    expect(approversOfVersion(edited, votes)).toEqual(["U2"]);
  });
});
