import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { malformedLines } from "../../src/config/env-file.ts";
import type { CliRun } from "../cli/run.ts";
import { useCleanups } from "../support/cleanups.ts";
import { SECRETS, TEST_CONFIG_YAML, TOKENS } from "../support/config.ts";
import { tempDir } from "../support/harness.ts";

const cleanups = useCleanups();
vi.setConfig({ testTimeout: 60_000 });

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SLACK =
  "SLACK_BOT_TOKEN=xoxb-1234-5678-abcdef\nSLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5\n";

/** `node <entry> …` in `cwd` with nothing from this process's environment but PATH (the file is the point). */
function run(entry: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [join(ROOT, entry), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += String(d)));
  child.stderr.on("data", (d) => (stderr += String(d)));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

/** A directory set up as the README says: countersign.yml and .env, nothing in the environment. */
function checkout(envFile: string) {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  writeFileSync(join(dir, "countersign.yml"), TEST_CONFIG_YAML);
  writeFileSync(join(dir, ".env"), envFile);
  return dir;
}

const AGENTS = `SUPPORT_TOKEN=${TOKENS.support}\nSUPPORT_SECRET=${SECRETS.support}\nDEPLOY_TOKEN=${TOKENS.deploy}\n`;

describe("the CLI reads .env as npm start does", () => {
  it("check-config with only ./.env (Slack settings, agent tokens) → exit 0, nothing reported missing", async () => {
    const dir = checkout(SLACK + AGENTS);
    const ran = await run("src/cli/main.ts", ["check-config"], dir);
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain("support-bot");
  });

  it("DATABASE_PATH from .env → migrate and audit verify use that file", async () => {
    const dir = checkout(`${AGENTS}DATABASE_PATH=./from-env-file.db\n`);
    const migrated = await run("src/cli/main.ts", ["migrate"], dir);
    expect(migrated.stderr).toBe("");
    expect(migrated.code).toBe(0);
    expect(existsSync(join(dir, "from-env-file.db"))).toBe(true);
    expect(existsSync(join(dir, "data"))).toBe(false);
    const verified = await run("src/cli/main.ts", ["audit", "verify"], dir);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain("ok, 0 event(s) checked");
    // The environment wins over the file.
    const elsewhere = await run("src/cli/main.ts", ["audit", "verify"], dir, { DATABASE_PATH: "./other.db" });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain("DATABASE_PATH: ./other.db does not exist");
  });

  it("a `KEY: value` line → CLI and npm start exit 2 naming the line and key, never the value", async () => {
    const dir = checkout(`${AGENTS}SLACK_BOT_TOKEN: xoxb-9999-secret-value\n${SLACK.split("\n")[1]}\n`);
    for (const entry of ["src/cli/main.ts", "src/main.ts"]) {
      const ran = await run(entry, entry.includes("cli") ? ["check-config"] : [], dir);
      expect(ran.code, entry).toBe(2);
      expect(ran.stderr, entry).toContain(".env line 4: not a KEY=value line (write SLACK_BOT_TOKEN=…");
      expect(ran.stderr, entry).not.toContain("secret-value");
    }
  });
});

describe("malformedLines", () => {
  it("KEY=value, export KEY=value, comments, blanks, CRLF → no problems", () => {
    expect(malformedLines("# c\n\nA=1\r\nexport B = 2\n  C=\nD='x y'\n")).toEqual([]);
  });

  it("a multi-line quoted value (an inline PEM key) → its inner lines are not checked", () => {
    const pem =
      'COUNTERSIGN_SIGNING_KEY="-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI: x\n-----END PRIVATE KEY-----"\nA=1\n';
    expect(malformedLines(pem)).toEqual([]);
  });

  it("`KEY: value`, `KEY value`, a bare word → each named by line", () => {
    expect(malformedLines("A=1\nB: 2\nC 3\njunk\n")).toEqual([
      { line: 2, message: "not a KEY=value line (write B=… ; the value is not shown)" },
      { line: 3, message: "not a KEY=value line (write C=… ; the value is not shown)" },
      { line: 4, message: "not a KEY=value line" },
    ]);
  });
});
