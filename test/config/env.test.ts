import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEnv } from "../../src/config/env.ts";

const slack = {
  SLACK_BOT_TOKEN: "xoxb-1-2-abcdefgh",
  SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99yyyzzz85a5",
};

describe("loadEnv", () => {
  it("applies every default when nothing is set and Slack is not required", () => {
    expect(loadEnv({}, { requireSlack: false })).toEqual({
      ok: true,
      env: {
        slackBotToken: null,
        slackSigningSecret: null,
        slackAppToken: null,
        slackApiUrl: "https://slack.com/api/",
        port: 3000,
        databasePath: "./data/countersign.db",
        databaseUrl: null,
        databasePoolSize: 10,
        databaseConnectTimeoutMs: 30_000,
        workLeaseMs: 120_000,
        configPath: "./countersign.yml",
        sweepCron: "*/10 * * * * *",
        logLevel: "info",
        signingKey: null,
        slackTeamIds: null,
      },
    });
  });

  it("requires both Slack secrets for npm start", () => {
    expect(loadEnv({}, { requireSlack: true })).toEqual({
      ok: false,
      problems: ["SLACK_BOT_TOKEN: required for npm start", "SLACK_SIGNING_SECRET: required for npm start"],
    });
  });

  it("treats empty and blank strings as unset", () => {
    const result = loadEnv(
      { SLACK_BOT_TOKEN: "", SLACK_SIGNING_SECRET: "  ", PORT: "", LOG_LEVEL: "", SLACK_APP_TOKEN: "" },
      { requireSlack: true },
    );
    expect(result).toEqual({
      ok: false,
      problems: ["SLACK_BOT_TOKEN: required for npm start", "SLACK_SIGNING_SECRET: required for npm start"],
    });
    const relaxed = loadEnv({ PORT: "", LOG_LEVEL: "", SLACK_APP_TOKEN: "" }, { requireSlack: false });
    expect(relaxed.ok && [relaxed.env.port, relaxed.env.logLevel, relaxed.env.slackAppToken]).toEqual([
      3000,
      "info",
      null,
    ]);
  });

  it("parses every setting when all are given", () => {
    const result = loadEnv(
      {
        ...slack,
        SLACK_APP_TOKEN: "xapp-1-A-b-12345",
        SLACK_API_URL: "http://127.0.0.1:4000/api",
        PORT: "8080",
        DATABASE_PATH: ":memory:",
        DATABASE_URL: "postgres://cs:secret@db.internal:5432/countersign",
        DATABASE_POOL_SIZE: "25",
        DATABASE_CONNECT_TIMEOUT: "5",
        WORK_LEASE_SECONDS: "7",
        COUNTERSIGN_CONFIG: "/etc/countersign.yml",
        SWEEP_CRON: "* * * * *",
        LOG_LEVEL: "debug",
        SLACK_TEAM_ID: "T0MAIN, E0ORG",
        UNRELATED: "ignored",
      },
      { requireSlack: true },
    );
    expect(result).toEqual({
      ok: true,
      env: {
        slackBotToken: "xoxb-1-2-abcdefgh",
        slackSigningSecret: "8f742231b10e8888abcd99yyyzzz85a5",
        slackAppToken: "xapp-1-A-b-12345",
        slackApiUrl: "http://127.0.0.1:4000/api/",
        port: 8080,
        databasePath: ":memory:",
        databaseUrl: "postgres://cs:secret@db.internal:5432/countersign",
        databasePoolSize: 25,
        databaseConnectTimeoutMs: 5_000,
        workLeaseMs: 7_000,
        configPath: "/etc/countersign.yml",
        sweepCron: "* * * * *",
        logLevel: "debug",
        signingKey: null,
        slackTeamIds: ["T0MAIN", "E0ORG"],
      },
    });
  });

  it("SLACK_TEAM_ID that is not a list of workspace ids → names the setting and the value", () => {
    for (const value of ["my-workspace", "T0MAIN,,T0OTHER", "t0lower"]) {
      const result = loadEnv({ SLACK_TEAM_ID: value }, { requireSlack: false });
      expect(result.ok).toBe(false);
      expect(result.ok ? [] : result.problems).toEqual([
        `SLACK_TEAM_ID: must be Slack workspace ids like "T0123ABCD" (or an org's "E…"), separated by commas (got ${JSON.stringify(value)})`,
      ]);
    }
  });

  it("keeps a trailing slash that is already there and accepts the port bounds", () => {
    const low = loadEnv({ SLACK_API_URL: "https://slack.example/api/", PORT: "0" }, { requireSlack: false });
    const high = loadEnv({ PORT: "65535" }, { requireSlack: false });
    expect(low.ok && [low.env.slackApiUrl, low.env.port]).toEqual(["https://slack.example/api/", 0]);
    expect(high.ok && high.env.port).toBe(65535);
  });

  it.each(["abc", "65536", "-1", "3.5", "80 80", "1e3"])("rejects PORT=%j naming the value", (port) => {
    expect(loadEnv({ PORT: port }, { requireSlack: false })).toEqual({
      ok: false,
      problems: [`PORT: must be an integer between 0 and 65535 (got ${JSON.stringify(port)})`],
    });
  });

  it("reports every malformed setting at once, each by name", () => {
    const result = loadEnv(
      {
        SLACK_BOT_TOKEN: "xoxp-user-token",
        SLACK_APP_TOKEN: "xoxb-not-an-app-token",
        SLACK_API_URL: "ftp://slack.example/api/",
        PORT: "abc",
        SWEEP_CRON: "every ten seconds",
        LOG_LEVEL: "verbose",
      },
      { requireSlack: true },
    );
    expect(result).toEqual({
      ok: false,
      problems: [
        'SLACK_BOT_TOKEN: must start with "xoxb-" (a bot token)',
        "SLACK_SIGNING_SECRET: required for npm start",
        'SLACK_APP_TOKEN: must start with "xapp-" (an app-level token)',
        'SLACK_API_URL: must be an http:// or https:// URL (got "ftp://slack.example/api/")',
        'PORT: must be an integer between 0 and 65535 (got "abc")',
        'SWEEP_CRON: must be a node-cron expression of 5 or 6 fields, e.g. "*/10 * * * * *" (got "every ten seconds")',
        'LOG_LEVEL: must be one of debug, info, warn, error (got "verbose")',
      ],
    });
  });

  it("checks the bot token prefix even when Slack is not required, without echoing the secret", () => {
    const result = loadEnv({ SLACK_BOT_TOKEN: "xoxp-secret-value" }, { requireSlack: false });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual(['SLACK_BOT_TOKEN: must start with "xoxb-" (a bot token)']);
    expect(JSON.stringify(result)).not.toContain("secret-value");
  });

  it.each(["not a url", "slack.com/api", "mailto:ops@example.com"])("rejects SLACK_API_URL=%j", (url) => {
    expect(loadEnv({ SLACK_API_URL: url }, { requireSlack: false })).toEqual({
      ok: false,
      problems: [`SLACK_API_URL: must be an http:// or https:// URL (got ${JSON.stringify(url)})`],
    });
  });

  it.each(["61 * * * *", "* * *", "*/10 * * * * * *"])("rejects SWEEP_CRON=%j", (expr) => {
    const result = loadEnv({ SWEEP_CRON: expr }, { requireSlack: false });
    expect(!result.ok && result.problems).toEqual([
      `SWEEP_CRON: must be a node-cron expression of 5 or 6 fields, e.g. "*/10 * * * * *" (got ${JSON.stringify(expr)})`,
    ]);
  });

  describe("settings that cannot work stop start-up, without echoing them", () => {
    const problemsOf = (env: Record<string, string>) => {
      const result = loadEnv(env, { requireSlack: true });
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain("SeCrEt");
      return result.ok ? [] : result.problems;
    };

    it("the README's placeholder line (xoxb-… and …) → both refused as non-ASCII", () => {
      expect(problemsOf({ SLACK_BOT_TOKEN: "xoxb-…", SLACK_SIGNING_SECRET: "…" })).toEqual([
        expect.stringMatching(/^SLACK_BOT_TOKEN: contains spaces or non-ASCII characters/),
        expect.stringMatching(/^SLACK_SIGNING_SECRET: contains spaces or non-ASCII characters/),
      ]);
    });

    it("a token with a non-ASCII character inside → refused (it could never be sent in an HTTP header)", () => {
      expect(
        problemsOf({
          SLACK_BOT_TOKEN: "xoxb-1234-SeCrEt\u00e9xyz",
          SLACK_SIGNING_SECRET: "SeCrEt0123456789abcdef",
        }),
      ).toEqual([expect.stringMatching(/^SLACK_BOT_TOKEN: contains spaces or non-ASCII/)]);
    });

    it.each(["xoxb-", "xoxb-1234"])("bot token %j is only a prefix → refused", (token) => {
      expect(problemsOf({ SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: "SeCrEt0123456789abcdef" })).toEqual([
        'SLACK_BOT_TOKEN: is only the "xoxb-" prefix or too short to be a whole token; paste all of it',
      ]);
    });

    it("app-level token that is only the prefix → refused", () => {
      expect(
        problemsOf({
          SLACK_BOT_TOKEN: "xoxb-1234-5678-SeCrEt",
          SLACK_SIGNING_SECRET: "SeCrEt0123456789abcdef",
          SLACK_APP_TOKEN: "xapp-",
        }),
      ).toEqual([
        'SLACK_APP_TOKEN: is only the "xapp-" prefix or too short to be a whole token; paste all of it',
      ]);
    });

    it("a signing secret shorter than 16 characters → refused", () => {
      expect(
        problemsOf({ SLACK_BOT_TOKEN: "xoxb-1234-5678-SeCrEt", SLACK_SIGNING_SECRET: "SeCrEt-short" }),
      ).toEqual([
        "SLACK_SIGNING_SECRET: is too short to be a Slack signing secret (at least 16 characters; Slack's are 32)",
      ]);
    });
  });
});

describe("COUNTERSIGN_SIGNING_KEY", () => {
  const ed25519 = () =>
    String(generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }));

  it("accepts an Ed25519 PKCS#8 PEM inline, with \\n escapes, or as a file path", () => {
    const pem = ed25519();
    const dir = mkdtempSync(join(tmpdir(), "countersign-env-"));
    try {
      const path = join(dir, "signing.pem");
      writeFileSync(path, pem);
      for (const value of [pem, pem.trim().replaceAll("\n", "\\n"), path]) {
        const result = loadEnv({ COUNTERSIGN_SIGNING_KEY: value }, { requireSlack: false });
        expect(result.ok && result.env.signingKey).toBe(pem);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      "garbage",
      "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----",
      "is not a readable private key",
    ],
    [
      "an RSA key",
      String(
        generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
          format: "pem",
          type: "pkcs8",
        }),
      ),
      "must be an Ed25519 private key (got rsa)",
    ],
    ["a missing file", "/nonexistent/signing.pem", "cannot read the file (ENOENT)"],
  ])("refuses %s, naming the variable and never echoing the value", (_what, value, message) => {
    const result = loadEnv({ COUNTERSIGN_SIGNING_KEY: value }, { requireSlack: false });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^COUNTERSIGN_SIGNING_KEY: /);
    expect(problems[0]).toContain(message);
    expect(problems[0]).not.toContain(value.split("\n")[1] ?? value.slice(10));
  });
});

describe("PostgreSQL settings", () => {
  const slack = {
    SLACK_BOT_TOKEN: "xoxb-1-2-abcdefgh",
    SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99yyyzzz85a5",
  };
  it("a DATABASE_URL that is not postgres:// is refused, naming the setting and never echoing the URL", () => {
    const result = loadEnv({ ...slack, DATABASE_URL: "mysql://root:hunter2@db/cs" }, { requireSlack: true });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      "DATABASE_URL: must be a postgres:// or postgresql:// URL, e.g. postgres://user:pass@host:5432/countersign",
    ]);
    expect(JSON.stringify(result.problems)).not.toContain("hunter2");
  });
  it("pool size, connect timeout and lease must be whole numbers in range", () => {
    const result = loadEnv(
      { ...slack, DATABASE_POOL_SIZE: "0", DATABASE_CONNECT_TIMEOUT: "-1", WORK_LEASE_SECONDS: "1.5" },
      { requireSlack: true },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.split(":")[0])).toEqual([
      "DATABASE_POOL_SIZE",
      "DATABASE_CONNECT_TIMEOUT",
      "WORK_LEASE_SECONDS",
    ]);
  });
});
