import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { argsHash, canonicalJson } from "../../clients/typescript/src/index.ts";
import { argsHash as serviceArgsHash } from "../../src/domain/canonical-json.ts";

/** The vectors pytest reads too (clients/python/tests/test_canonical.py): one file, three implementations. */
const VECTORS = JSON.parse(
  readFileSync(new URL("../../clients/shared/canonical-vectors.json", import.meta.url), "utf8"),
) as {
  vectors: { name: string; json: string; canonical: string; args_hash: string }[];
  refused: { name: string; json: string }[];
};

describe("shared canonical JSON vectors (clients/shared/canonical-vectors.json)", () => {
  it.each(VECTORS.vectors.map((v) => [v.name, v] as const))("%s", (_name, vector) => {
    const value = JSON.parse(vector.json);
    expect(canonicalJson(value)).toBe(vector.canonical);
    expect(argsHash(value)).toBe(vector.args_hash);
    expect(serviceArgsHash(value)).toBe(vector.args_hash);
  });

  it.each(VECTORS.refused.map((v) => [v.name, v] as const))("refused: %s", (_name, vector) => {
    expect(() => argsHash(JSON.parse(vector.json))).toThrow();
    expect(() => serviceArgsHash(JSON.parse(vector.json))).toThrow();
  });

  it("the vectors cover what the issue names: 30.0, 1e21, -0, unicode, nesting, big integers", () => {
    const all = VECTORS.vectors.map((v) => v.json).join("\n");
    for (const needle of [
      "30.0",
      "1e21",
      "-0",
      "\\u00e9",
      "\\ud83d\\ude00",
      '"nested"',
      "9007199254740993",
    ]) {
      expect(all).toContain(needle);
    }
  });
});
