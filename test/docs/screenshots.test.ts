import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SCRIPT = fileURLToPath(new URL("../../scripts/screenshots-stamp.mjs", import.meta.url));

describe("docs/screenshots", () => {
  it("were taken from the current message layout (else: npm run screenshots, and commit docs/screenshots/)", () => {
    const check = spawnSync(process.execPath, [SCRIPT, "check"], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });
});
