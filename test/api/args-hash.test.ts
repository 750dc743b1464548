import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, sha256Hex, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.stop();
});

/** POSTs params written as raw JSON text, so number spellings and key order reach the server untouched. */
async function hashOf(paramsJson: string): Promise<{ hash: string; params: unknown }> {
  const res = await h.api("POST", "/v1/requests", undefined, {
    raw: `{"action":"refund.issue","summary":"hash vector","params":${paramsJson}}`,
    headers: { "content-type": "application/json" },
  });
  expect(res.status).toBe(201);
  return { hash: res.json.args_hash, params: res.json.params };
}

const expected = (canonical: string) => `sha256:${sha256Hex(canonical)}`;

describe("args_hash = sha256 over the RFC 8785 canonical JSON of params", () => {
  it("the contract's example params → the hash of the sorted, whitespace-free form", async () => {
    const { hash } = await hashOf('{ "order_id": "48213", "currency": "USD", "amount": 75 }');
    expect(hash).toBe(expected('{"amount":75,"currency":"USD","order_id":"48213"}'));
    // pinned, so a change of canonical form or digest cannot go unnoticed
    expect(hash).toBe("sha256:b4a0c22471d938ea213ff3b6ae71529cc583b87b4915f405f2b12453ee94679c");
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('empty params {} → sha256 of "{}"', async () => {
    const { hash } = await hashOf("{}");
    expect(hash).toBe("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  });

  it("two param objects differing only in key order → the same hash", async () => {
    const a = await hashOf('{"b":1,"a":{"y":[1,2],"x":"s"},"c":true}');
    const b = await hashOf('{"c":true,"a":{"x":"s","y":[1,2]},"b":1}');
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toBe(expected('{"a":{"x":"s","y":[1,2]},"b":1,"c":true}'));
  });

  it("numbers in ECMAScript shortest form: 1E21 → 1e+21, 0.10 → 0.1, -0 → 0, 100.0 → 100, 1e-7, big ints rounded", async () => {
    const { hash, params } = await hashOf(
      '{"tenth":0.10,"big":1E21,"negzero":-0,"int":100.0,"small":0.0000001,"neg":-1.50,"huge":123456789012345678901,"exp":4.5e3,"max":1.7976931348623157e308,"min":5e-324}',
    );
    expect(hash).toBe(
      expected(
        '{"big":1e+21,"exp":4500,"huge":123456789012345680000,"int":100,"max":1.7976931348623157e+308,"min":5e-324,"neg":-1.5,"negzero":0,"small":1e-7,"tenth":0.1}',
      ),
    );
    expect(params).toMatchObject({ big: 1e21, tenth: 0.1, int: 100, exp: 4500 });
  });

  it("numbers just below the exponent switch stay plain: 1e20 → 100000000000000000000, 0.000001 → 0.000001", async () => {
    const { hash } = await hashOf('{"a":1e20,"b":1e-6,"c":1e-7}');
    expect(hash).toBe(expected('{"a":100000000000000000000,"b":0.000001,"c":1e-7}'));
  });

  it("unicode strings are kept as they are (UTF-8 hashed), not \\u-escaped", async () => {
    const { hash } = await hashOf('{"name":"Dana Ru\\u00edz \\u20ac 😀","ключ":"значение"}');
    expect(hash).toBe(expected('{"name":"Dana Ruíz € 😀","ключ":"значение"}'));
  });

  it("keys sort by UTF-16 code units: an astral key (surrogates D83D…) sorts before U+E000", async () => {
    // By code point U+E000 < U+1F600; by UTF-16 code unit 0xD83D < 0xE000. RFC 8785 wants the latter.
    const { hash } = await hashOf('{"\\ue000":2,"\\ud83d\\ude00":1,"a":0,"A":-1,"é":3}');
    expect(hash).toBe(expected('{"A":-1,"a":0,"é":3,"😀":1,"\uE000":2}'));
  });

  it('string escapes: only " \\ and control characters are escaped, controls as \\b \\f \\n \\r \\t or lower-case \\u00xx', async () => {
    const { hash } = await hashOf('{"s":"q\\"b\\\\ n\\n t\\t c\\u001F d\\u007f s\\/ \\b\\f\\r"}');
    expect(hash).toBe(expected('{"s":"q\\"b\\\\ n\\n t\\t c\\u001f d\u007f s/ \\b\\f\\r"}'));
  });

  it("nested objects are sorted at every level; arrays keep their order", async () => {
    const { hash } = await hashOf(
      '{"z":[3,1,{"b":true,"a":null}],"a":{"d":[],"c":{}},"m":[[2,1],["b","a"]]}',
    );
    expect(hash).toBe(expected('{"a":{"c":{},"d":[]},"m":[[2,1],["b","a"]],"z":[3,1,{"a":null,"b":true}]}'));
  });

  it("a different value → a different hash (the hash binds the params)", async () => {
    const a = await hashOf('{"amount":75}');
    const b = await hashOf('{"amount":76}');
    const c = await hashOf('{"amount":"75"}');
    expect(new Set([a.hash, b.hash, c.hash]).size).toBe(3);
    expect(a.hash).toBe(expected('{"amount":75}'));
    expect(c.hash).toBe(expected('{"amount":"75"}'));
  });

  it("the hash is stable: GET returns the same args_hash the POST did", async () => {
    const res = await h.create({ action: "refund.issue", summary: "s", params: { x: [1, { y: 2 }] } });
    const got = await h.api("GET", `/v1/requests/${res.json.id}`);
    expect(got.json.args_hash).toBe(res.json.args_hash);
    expect(got.json.args_hash).toBe(expected('{"x":[1,{"y":2}]}'));
  });
});
