import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it, vi } from "vitest";
import { useCleanups } from "../support/cleanups.ts";
import { SECRETS, TEST_CONFIG_YAML, TOKENS } from "../support/config.ts";
import { REFUND, startHarness, tempDir } from "../support/harness.ts";
import { freshPostgresUrl, onPostgres } from "../support/postgres.ts";
import { runCli } from "./run.ts";

const cleanups = useCleanups();
vi.setConfig({ testTimeout: 120_000 });

/** The operator commands with DATABASE_URL instead of DATABASE_PATH (the same commands, the same output). */
describe.skipIf(!onPostgres)("countersign CLI on PostgreSQL (DATABASE_URL)", () => {
  async function setup() {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const configPath = join(dir, "countersign.yml");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(configPath, TEST_CONFIG_YAML);
    const url = await freshPostgresUrl();
    const env = {
      DATABASE_URL: url,
      COUNTERSIGN_CONFIG: configPath,
      SUPPORT_TOKEN: TOKENS.support,
      SUPPORT_SECRET: SECRETS.support,
      DEPLOY_TOKEN: TOKENS.deploy,
    };
    return { dir, url, env };
  }

  it("migrate is idempotent and says which server; audit verify/export and keys rotate read the shared database", async () => {
    const s = await setup();
    const migrated = await runCli(["migrate"], s.env);
    expect(migrated.stderr).toBe("");
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(
      /^migrate: applied 0 new migration\(s\); postgres:\/\/127\.0\.0\.1:\d+ is at the current schema \(\d+ in all\)/,
    );
    // The password in the URL is never printed.
    expect(migrated.stdout).not.toContain(new URL(s.url).password || "\u0000");

    const h = await startHarness({ dbPath: s.url });
    try {
      for (let i = 0; i < 3; i += 1)
        expect((await h.create({ ...REFUND, summary: `refund ${i}` })).status).toBe(201);
    } finally {
      await h.stop();
    }
    // The harness maps the key to its own database; point the CLI at that one.
    const { postgresUrlFor } = await import("../support/harness.ts");
    const env = { ...s.env, DATABASE_URL: await postgresUrlFor(s.url) };

    const verified = await runCli(["audit", "verify"], env);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^audit verify: ok, \d+ event\(s\) checked/);

    const out = join(s.dir, "audit.jsonl");
    const exported = await runCli(["audit", "export", "--output", out], env);
    expect(exported.code).toBe(0);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines.length).toBeGreaterThan(3);
    const fromFile = await runCli(["audit", "verify", "--file", out], {});
    expect(fromFile.code).toBe(0);

    const rotated = await runCli(["keys", "rotate"], env);
    expect(rotated.stderr).toBe("");
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/keys rotate: signing key \S+ is now active/);
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      const keys = await client.query("SELECT count(*)::int AS n FROM signing_keys WHERE retired_at IS NULL");
      expect(keys.rows[0].n).toBe(1);
      const events = await client.query(
        "SELECT count(*)::int AS n FROM audit_log WHERE event = 'key_rotated'",
      );
      expect(events.rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
    // Still one chain after the CLI's own audit event.
    expect((await runCli(["audit", "verify"], env)).code).toBe(0);
  });

  it("a tampered event fails audit verify (exit 1, naming it); backup points at pg_dump; a bad URL exits 2", async () => {
    const s = await setup();
    const h = await startHarness({ dbPath: `${s.url}#tamper` });
    try {
      expect((await h.create(REFUND)).status).toBe(201);
    } finally {
      await h.stop();
    }
    const { postgresUrlFor } = await import("../support/harness.ts");
    const env = { ...s.env, DATABASE_URL: await postgresUrlFor(`${s.url}#tamper`) };
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      await client.query(
        "UPDATE audit_log SET actor = 'agent:someone-else' WHERE id = (SELECT min(id) FROM audit_log)",
      );
    } finally {
      await client.end();
    }
    const verified = await runCli(["audit", "verify"], env);
    expect(verified.code).toBe(1);
    expect(verified.stderr).toMatch(/audit verify: FAILED \(\w+\) at event \d+/);

    const backup = await runCli(["backup", join(s.dir, "copy.db")], env);
    expect(backup.code).toBe(2);
    expect(backup.stderr).toContain("pg_dump");

    const bad = await runCli(["audit", "verify"], { ...env, DATABASE_URL: "mysql://u:secret@h/db" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("DATABASE_URL: must be a postgres://");
    expect(bad.stderr).not.toContain("secret");
  });
});
