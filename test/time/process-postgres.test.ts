import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { useCleanups } from "../support/cleanups.ts";
import { SECRETS, TEST_CONFIG_YAML, TOKENS } from "../support/config.ts";
import { tempDir } from "../support/harness.ts";
import { freePort } from "../support/ports.ts";
import { onPostgres } from "../support/postgres.ts";

const cleanups = useCleanups();
vi.setConfig({ testTimeout: 60_000 });

/** `npm start` with DATABASE_URL at a server that is not there: bounded wait, a clear message, no password. */
describe.skipIf(!onPostgres)("start-up waits for PostgreSQL (DATABASE_URL), then gives up clearly", () => {
  it("nothing listening → a line per attempt, then exit 2 naming DATABASE_URL and host:port, never the password", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const configPath = join(dir, "countersign.yml");
    writeFileSync(configPath, TEST_CONFIG_YAML);
    const envFile = join(dir, ".env");
    writeFileSync(envFile, "");
    const dbPort = await freePort();
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "./bin/preload.mjs", "src/main.ts"], {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH ?? "",
        SLACK_BOT_TOKEN: "xoxb-test-token",
        SLACK_SIGNING_SECRET: "test-signing-secret",
        SLACK_API_URL: "http://127.0.0.1:9/api/",
        PORT: String(await freePort()),
        DATABASE_URL: `postgres://countersign:hunter2-secret@127.0.0.1:${dbPort}/countersign`,
        DATABASE_CONNECT_TIMEOUT: "2",
        COUNTERSIGN_CONFIG: configPath,
        COUNTERSIGN_ENV_FILE: envFile,
        SUPPORT_TOKEN: TOKENS.support,
        SUPPORT_SECRET: SECRETS.support,
        DEPLOY_TOKEN: TOKENS.deploy,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += String(c);
    });
    child.stderr.on("data", (c: Buffer) => {
      err += String(c);
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toContain("countersign: cannot start:");
    expect(err).toContain("DATABASE_URL:");
    expect(err).toContain(`127.0.0.1:${dbPort}`);
    expect(out).toMatch(new RegExp(`waiting for PostgreSQL at 127\\.0\\.0\\.1:${dbPort} \\(attempt 1\\)`));
    expect(`${out}${err}`).not.toContain("hunter2");
    // Bounded: the 2 s budget plus start-up, not a hang.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
