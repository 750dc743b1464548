import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it, vi } from "vitest";
import { dbTarget, seedEvents, tamper } from "../audit/helpers.ts";
import { useCleanups } from "../support/cleanups.ts";
import { SECRETS, TEST_CONFIG_YAML, TOKENS } from "../support/config.ts";
import { openReader } from "../support/db-reader.ts";
import { postgresUrlFor, REFUND, startHarness, tempDir } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";
import { type CliRun, runCli, runCliProcess } from "./run.ts";

const cleanups = useCleanups();
// Commands run in this process (runCli); the cases about the process itself
// (exit status, a closed stdout) start node on bin/countersign.mjs.
vi.setConfig({ testTimeout: 120_000 });

/** A temp dir with the test config; env as `npm start` would get it (Slack settings included). */
function setup() {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const configPath = join(dir, "countersign.yml");
  writeFileSync(configPath, TEST_CONFIG_YAML);
  const dbPath = join(dir, "countersign.db");
  const env: Record<string, string> = {
    DATABASE_PATH: dbPath,
    COUNTERSIGN_CONFIG: configPath,
    SUPPORT_TOKEN: TOKENS.support,
    SUPPORT_SECRET: SECRETS.support,
    DEPLOY_TOKEN: TOKENS.deploy,
  };
  return { dir, dbPath, configPath, env };
}

/**
 * setup() for commands that read the database: on PostgreSQL with DATABASE_URL
 * (which wins over DATABASE_PATH) naming the database that stands for dbPath;
 * `target` is what seedEvents/tamper take for it.
 */
async function dbSetup() {
  const s = setup();
  if (onPostgres) s.env.DATABASE_URL = await postgresUrlFor(s.dbPath);
  return { ...s, target: await dbTarget(s.dbPath) };
}

describe("countersign --help", () => {
  it("every command answers --help with its usage and exit 0", async () => {
    const commands = [
      [],
      ["migrate"],
      ["check-config"],
      ["policy", "test"],
      ["audit", "verify"],
      ["audit", "export"],
      ["backup"],
    ];
    const runs = await Promise.all(commands.map((c) => runCli([...c, "--help"], {})));
    runs.forEach((run, i) => {
      expect(run.code, commands[i]?.join(" ")).toBe(0);
      expect(run.stdout).toContain(
        `Usage: countersign${commands[i]?.length ? ` ${commands[i]?.join(" ")}` : ""}`,
      );
      expect(run.stdout).toContain("Exit status: 0 success, 1 a failed check, 2 bad usage or settings");
    });
  });

  it("no command, an unknown command or an unknown option → exit 2 naming it", async () => {
    // The process's own exit status, as a shell sees it.
    const [none, unknown, option, extra] = await Promise.all([
      runCliProcess([], {}),
      runCliProcess(["frobnicate"], {}),
      runCliProcess(["audit", "verify", "--fast"], {}),
      runCliProcess(["backup"], {}),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: countersign");
    expect(unknown).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown command 'frobnicate'"),
    });
    expect(option).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown option '--fast'") });
    expect(extra).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("missing required argument 'path'"),
    });
  });
});

describe("countersign migrate", () => {
  // A new SQLite file (on PostgreSQL: cli-postgres.test.ts, migrate on a shared database).
  it.skipIf(onPostgres)("a new file → every migration applied, exit 0; again → nothing new", async () => {
    const { env, dbPath } = setup();
    const first = await runCli(["migrate"], env);
    const all = JSON.parse(readFileSync("migrations/meta/_journal.json", "utf8")).entries.length;
    expect(first).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`applied ${all} new migration(s)`),
    });
    expect(existsSync(dbPath)).toBe(true);
    const again = await runCli(["migrate"], env);
    expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining("applied 0 new migration(s)") });
  });

  it("DATABASE_PATH=:memory: → exit 2 naming the setting; no Slack settings are needed", async () => {
    const run = await runCli(["migrate"], { DATABASE_PATH: ":memory:" });
    expect(run).toMatchObject({ code: 2, stderr: expect.stringContaining("DATABASE_PATH: :memory:") });
    expect(run.stderr).not.toContain("SLACK");
  });
});

describe("countersign check-config", () => {
  it("good env and YAML → exit 0 with agents, roles and the policy table", async () => {
    const { env } = setup();
    const run = await runCli(["check-config"], {
      ...env,
      SLACK_BOT_TOKEN: "xoxb-123456789012-abcdefghijkl",
      SLACK_SIGNING_SECRET: "8f14e45fceea167a5a36dedd4bea2543",
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("support-bot");
    expect(run.stdout).toContain("support-lead  channel C0SUPPORT");
    expect(run.stdout).toMatch(
      /1 +medium-refunds +\{"action":"refund\.\*","params\.amount":\{"lte":200\}\} +route support-lead +1 +30m +15m/,
    );
  });

  it("bad env and a bad YAML → exit 2, every problem listed by setting and path", async () => {
    const { env, configPath } = setup();
    writeFileSync(configPath, TEST_CONFIG_YAML.replace("route: finance", "route: finanse"));
    const { SUPPORT_SECRET: _, ...rest } = env;
    const run = await runCli(["check-config"], { ...rest, SLACK_BOT_TOKEN: "xoxp-wrong" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("SLACK_BOT_TOKEN");
    expect(run.stderr).toContain("SLACK_SIGNING_SECRET: required");
    expect(run.stderr).toContain("agents[0].callback_secret: environment variable SUPPORT_SECRET is not set");
    expect(run.stderr).toContain('policies[2].route: unknown role "finanse"');
  });
});

describe("countersign policy test", () => {
  it("a body → the matching policy, why earlier ones failed, role/approvals/ttl/escalation; nothing stored", async () => {
    const { env, dbPath, dir } = setup();
    const file = join(dir, "body.json");
    writeFileSync(
      file,
      JSON.stringify({ ...REFUND, params: { amount: 120, card_number: "4111-SECRET" }, ttl: "20m" }),
    );
    const run = await runCli(["policy", "test", file], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'policies[0] small-refunds: no match: params.amount {"lt":50} (request has 120)',
    );
    expect(run.stdout).toContain("policies[1] medium-refunds: MATCH");
    expect(run.stdout).toContain("routed to role support-lead");
    expect(run.stdout).toContain("approvals required: 1");
    expect(run.stdout).toContain("ttl: 20m");
    expect(run.stdout).toContain("escalation: after 15m to U0MANAGER");
    expect(run.stdout).not.toContain("4111-SECRET");
    expect(existsSync(dbPath)).toBe(false);
  });

  it("from stdin, with --agent, decided by policy → exit 0", async () => {
    const { env } = setup();
    const body = JSON.stringify({ action: "db.drop_table", summary: "drop", params: {} });
    const run = await runCli(["policy", "test", "-", "--agent", "deploy-bot"], env, body);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("agent: deploy-bot");
    expect(run.stdout).toContain("policies[3] no-deletes: MATCH");
    expect(run.stdout).toContain("rejected by policy at once (resolution rejected_by_policy)");
  });

  it("no policy matches → exit 1 saying the API would answer 422", async () => {
    const { env } = setup();
    const run = await runCli(
      ["policy", "test", "-"],
      env,
      JSON.stringify({ action: "email.send", summary: "s", params: {} }),
    );
    expect(run).toMatchObject({ code: 1, stdout: expect.stringContaining("422 no_matching_policy") });
  });

  it("an invalid body → exit 2 with the API's own issues; a missing file or agent → exit 2", async () => {
    const { env } = setup();
    const [invalid, missing, agent] = await Promise.all([
      runCli(["policy", "test", "-"], env, JSON.stringify({ action: "refund.issue", params: [], colour: 1 })),
      runCli(["policy", "test", "/nonexistent/body.json"], env),
      runCli(["policy", "test", "-", "--agent", "nobody"], env, "{}"),
    ]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("invalid_request");
    expect(invalid.stderr).toContain("- summary:");
    expect(invalid.stderr).toContain("- params:");
    expect(invalid.stderr).toContain('- colour: unknown key "colour"');
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("cannot read /nonexistent/body.json"),
    });
    expect(agent).toMatchObject({ code: 2, stderr: expect.stringContaining('--agent: no agent "nobody"') });
  });
});

describe("countersign audit verify / export", () => {
  it("an untouched database → exit 0 with the count and head; an edited row → exit 1 naming it", async () => {
    const { env, target } = await dbSetup();
    await seedEvents(target, 30);
    const ok = await runCli(["audit", "verify"], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("ok, 30 event(s) checked");
    expect(ok.stdout).toMatch(/head: event 30 sha256:[0-9a-f]{64}/);
    await tamper(target, `UPDATE audit_log SET actor = 'slack:U0MALLORY' WHERE id = 12`);
    const bad = await runCli(["audit", "verify"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("FAILED (edited) at event 12");
  });

  it("--anchor of an earlier head → exit 1 once the tail was cut", async () => {
    const { env, target } = await dbSetup();
    await seedEvents(target, 10);
    const head = /head: event 10 (sha256:[0-9a-f]{64})/.exec(
      (await runCli(["audit", "verify"], env)).stdout,
    )?.[1];
    await tamper(target, "DELETE FROM audit_log WHERE id > 7");
    const run = await runCli(["audit", "verify", "--anchor", head ?? "missing"], env);
    expect(run).toMatchObject({ code: 1, stderr: expect.stringContaining("is not in the chain") });
  });

  it("--anchor that is not a whole hash (sha256:0000, a bare hex, uppercase) → exit 2 naming --anchor, not a failed chain", async () => {
    const { env, target } = await dbSetup();
    await seedEvents(target, 3);
    const full = `sha256:${"ab".repeat(32)}`;
    for (const anchor of ["sha256:0000", "ab".repeat(32), full.toUpperCase()]) {
      const run = await runCli(["audit", "verify", "--anchor", anchor], env);
      expect(run.code, anchor).toBe(2);
      expect(run.stderr, anchor).toContain("--anchor: must be a whole head hash");
      expect(run.stderr, anchor).not.toContain("FAILED");
    }
  });

  // A missing or empty SQLite file (DATABASE_PATH).
  it.skipIf(onPostgres)("no database, or one never migrated → exit 2 naming DATABASE_PATH", async () => {
    const { env, dbPath } = setup();
    const missing = await runCli(["audit", "verify"], env);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining("DATABASE_PATH") });
    new Database(dbPath).close();
    const empty = await runCli(["audit", "verify"], env);
    expect(empty).toMatchObject({ code: 2, stderr: expect.stringContaining("countersign migrate") });
  });

  it("export → verify --file round trip; --since and --request exports verify; an edited line → exit 1", async () => {
    const { env, dir, target } = await dbSetup();
    await seedEvents(target, 40);
    const full = join(dir, "full.jsonl");
    const exported = await runCli(["audit", "export", "--output", full], env);
    expect(exported).toMatchObject({ code: 0, stdout: expect.stringContaining("40 event(s) written") });
    const lines = readFileSync(full, "utf8").trim().split("\n");
    expect(lines).toHaveLength(41);
    expect(JSON.parse(lines[1] ?? "")).toMatchObject({
      seq: 1,
      prev_hash: expect.stringMatching(/^sha256:0{64}$/),
      hash: expect.any(String),
    });

    // --since: the 1_700_000_000_000 + i*1000 timeline of seedEvents; event 21 is i = 20.
    const since = new Date(1_700_000_000_000 + 20_000).toISOString();
    const sinceRun = await runCli(["audit", "export", "--since", since], env);
    expect(sinceRun.code).toBe(0);
    const sinceFile = join(dir, "since.jsonl");
    writeFileSync(sinceFile, sinceRun.stdout);
    expect(sinceRun.stdout.trim().split("\n")).toHaveLength(21);
    const requestFile = join(dir, "request.jsonl");
    expect((await runCli(["audit", "export", "--request", "req_1", "--output", requestFile], env)).code).toBe(
      0,
    );

    const [a, b, c] = (await Promise.all(
      [full, sinceFile, requestFile].map((file) => runCli(["audit", "verify", "--file", file], {})),
    )) as [CliRun, CliRun, CliRun];
    expect(a).toMatchObject({ code: 0, stdout: expect.stringContaining("ok, 40 event(s) checked") });
    expect(b).toMatchObject({ code: 0, stdout: expect.stringContaining("ok, 20 event(s) checked") });
    expect(b.stdout).toContain("starts from prev_hash sha256:");
    expect(c).toMatchObject({
      code: 0,
      stdout: expect.stringContaining("a --request export holds a selection"),
    });

    writeFileSync(
      full,
      lines
        .map((l, i) => (i === 5 ? l.replace('"created"', '"approved"').replace('"routed"', '"approved"') : l))
        .join("\n"),
    );
    const edited = await runCli(["audit", "verify", "--file", full], {});
    expect(edited).toMatchObject({ code: 1, stderr: expect.stringContaining("at event 5") });
    writeFileSync(full, [lines[0], ...lines.slice(2)].join("\n"));
    const cut = await runCli(["audit", "verify", "--file", full], {});
    expect(cut).toMatchObject({ code: 1, stderr: expect.stringContaining("(deleted)") });
  });

  it("export piped into a reader that stops early (| head) → exit 0, no stack trace", async () => {
    const { env, target } = await dbSetup();
    await seedEvents(target, 5000);
    const child = spawn(process.execPath, ["bin/countersign.mjs", "audit", "export"], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stderr: string[] = [];
    child.stderr.on("data", (c: Buffer) => stderr.push(String(c)));
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise((resolve) => child.once("close", resolve));
    expect(code).toBe(0);
    expect(stderr.join("")).not.toContain("EPIPE");
  });

  it("a bad --since or --file → exit 2; a file that is not an export → exit 1", async () => {
    const { env, dir, target } = await dbSetup();
    await seedEvents(target, 3);
    const junk = join(dir, "junk.jsonl");
    writeFileSync(junk, "hello\n");
    const [since, file, notExport] = await Promise.all([
      runCli(["audit", "export", "--since", "yesterday"], env),
      runCli(["audit", "verify", "--file", join(dir, "nope.jsonl")], env),
      runCli(["audit", "verify", "--file", junk], env),
    ]);
    expect(since).toMatchObject({ code: 2, stderr: expect.stringContaining("--since") });
    expect(file).toMatchObject({ code: 2, stderr: expect.stringContaining("--file") });
    expect(notExport).toMatchObject({ code: 1, stderr: expect.stringContaining("line 1") });
  });
});

describe("countersign keys rotate", () => {
  it("rotate twice → a new active key each time, the old one retired, audited as key_rotated", async () => {
    const { env, dbPath } = await dbSetup();
    expect((await runCli(["migrate"], env)).code).toBe(0);
    const first = await runCli(["keys", "rotate"], env);
    expect(first).toMatchObject({ code: 0, stdout: expect.stringContaining("no key was active before") });
    const second = await runCli(["keys", "rotate"], env);
    expect(second.code).toBe(0);
    const firstKid = /signing key (\S+) is now active/.exec(first.stdout)?.[1];
    expect(second.stdout).toContain(`key ${firstKid} is retired and stays in /.well-known/jwks.json`);
    const reader = await openReader(dbPath);
    const keys = await reader.all<{ retired_at: number | null }>(
      "SELECT kid, retired_at FROM signing_keys ORDER BY created_at",
    );
    const audited = await reader.all<{ event: string }>(
      "SELECT event FROM audit_log WHERE event = 'key_rotated'",
    );
    await reader.close();
    expect(keys.map((k) => k.retired_at === null)).toEqual([false, true]);
    expect(audited).toHaveLength(2);
    expect((await runCli(["audit", "verify"], env)).code).toBe(0);
  });

  it("COUNTERSIGN_SIGNING_KEY set, or an unreadable --key → exit 2 naming it", async () => {
    const { env, dir } = await dbSetup();
    const { generateSigningKey } = await import("../../src/tokens/keys.ts");
    const [fromEnv, badKey] = await Promise.all([
      runCli(["keys", "rotate"], { ...env, COUNTERSIGN_SIGNING_KEY: generateSigningKey() }),
      runCli(["keys", "rotate", "--key", join(dir, "missing.pem")], env),
    ]);
    expect(fromEnv).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("COUNTERSIGN_SIGNING_KEY is set"),
    });
    expect(badKey).toMatchObject({ code: 2, stderr: expect.stringContaining("--key:") });
  });
});

// A SQLite file's online backup; on PostgreSQL `backup` points at pg_dump (cli-postgres.test.ts).
describe.skipIf(onPostgres)("countersign backup", () => {
  it("while the service runs and writes → a consistent copy whose audit chain verifies; audit verify works, migrate is refused (exit 2), an existing target → exit 2", async () => {
    const { env, dbPath, dir } = setup();
    const h = await startHarness({ dbPath });
    cleanups.push(() => h.stop());
    for (let i = 0; i < 20; i += 1) await h.create(REFUND);
    let writing = true;
    const writer = (async () => {
      while (writing) await h.create(REFUND);
    })();
    const target = join(dir, "backup.db");
    const run = await runCli(["backup", target], env);
    writing = false;
    await writer;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`backup: written to ${target}`);
    expect(run.stdout).toContain("audit chain in the copy: ok");
    // It holds the signing key: owner-only. One file, nothing left beside it.
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.startsWith("backup.db"))).toEqual(["backup.db"]);
    const verify = await runCli(["audit", "verify"], { ...env, DATABASE_PATH: target });
    expect(verify.code).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith("backup.db"))).toEqual(["backup.db"]);
    const requests = new Database(target, { readonly: true })
      .prepare("SELECT count(*) AS n FROM requests")
      .get() as { n: number };
    expect(requests.n).toBeGreaterThanOrEqual(20);

    // Still running: the read-only commands work, migrate is refused.
    const [again, verifyLive, migrate] = await Promise.all([
      runCli(["backup", target], env),
      runCli(["audit", "verify"], env),
      runCli(["migrate"], env),
    ]);
    expect(again).toMatchObject({ code: 2, stderr: expect.stringContaining("already exists") });
    expect(verifyLive).toMatchObject({ code: 0, stdout: expect.stringContaining("audit verify: ok") });
    expect(migrate).toMatchObject({ code: 2, stderr: expect.stringContaining("stop the service first") });
  });

  it("into a folder that does not exist → exit 2 naming the folder, nothing written", async () => {
    const { env, dbPath, dir } = setup();
    expect((await runCli(["migrate"], { ...env, DATABASE_PATH: dbPath })).code).toBe(0);
    const target = join(dir, "backups", "x.db");
    const run = await runCli(["backup", target], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`<path>: the folder ${join(dir, "backups")} does not exist`);
    expect(existsSync(join(dir, "backups"))).toBe(false);
  });
});
