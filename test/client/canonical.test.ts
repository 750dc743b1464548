import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { argsHash, canonicalJson } from "../../clients/typescript/src/index.ts";
import { argsHash as serviceArgsHash } from "../../src/domain/canonical-json.ts";

/** Values where canonical JSON implementations tend to disagree (RFC 8785 §3.2). */
const ODD_PARAMS: Record<string, unknown>[] = [
  {},
  { "": "" },
  { b: 1, a: 2, A: 3, _: 4, "1": 5, "10": 6, "2": 7 },
  {
    n: -0,
    big: 1e21,
    small: 1e-7,
    third: 1 / 3,
    max: Number.MAX_VALUE,
    min: Number.MIN_VALUE,
    neg: -1.5e-10,
  },
  { int: 9007199254740992, float: 0.1 + 0.2, exp: 123456789012345680000, e: 1e300 },
  {
    unicode: "é",
    composed: "é",
    emoji: "😀",
    astral: "\u{1F600}",
    ctrl: "\u0000\u001f\u007f",
    quote: '"\\/',
  },
  { "€": 1, "\u0080": 2, "\ud83d\ude00": 3, "\uffff": 4, a: 5 }, // keys sorted by UTF-16 code units
  { nested: { z: [3, { y: null, x: [true, false] }], a: { c: { b: {} } } }, arr: [[], [[]], {}] },
  { html: "<script>&amp;</script>", line: "\u2028\u2029", tab: "\t\n\r\b\f" },
];

describe("the client's args_hash equals the service's", () => {
  it.each(ODD_PARAMS.map((p, i) => [i, p] as const))("odd input #%i", (_i, params) => {
    expect(argsHash(params)).toBe(serviceArgsHash(params));
  });

  it("a lone surrogate has no canonical form: both sides refuse it", () => {
    expect(() => argsHash({ lone: "\ud800" })).toThrow();
    expect(() => serviceArgsHash({ lone: "\ud800" })).toThrow();
  });

  it("known RFC 8785 answer for numbers and key order", () => {
    expect(canonicalJson({ b: [1e21, -0, 0.000001, 1e-7], a: "\u20ac" })).toBe(
      '{"a":"€","b":[1e+21,0,0.000001,1e-7]}',
    );
  });

  it("any JSON object (fast-check) hashes the same on both sides", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: "binary" }), fc.jsonValue()), (params) => {
        expect(argsHash(params)).toBe(serviceArgsHash(params));
      }),
      { numRuns: 300 },
    );
  });
});
