import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import cron from "node-cron";
import { z } from "zod";

/**
 * Process settings (CONTRACT §1). The parsed object uses camelCase names:
 *   SLACK_BOT_TOKEN → slackBotToken, SLACK_SIGNING_SECRET → slackSigningSecret,
 *   SLACK_APP_TOKEN → slackAppToken, SLACK_API_URL → slackApiUrl (always ends in "/"),
 *   PORT → port, DATABASE_PATH → databasePath, COUNTERSIGN_CONFIG → configPath,
 *   DATABASE_URL → databaseUrl (postgres://…; selects PostgreSQL), DATABASE_POOL_SIZE → databasePoolSize,
 *   DATABASE_CONNECT_TIMEOUT → databaseConnectTimeoutMs (seconds in the environment),
 *   WORK_LEASE_SECONDS → workLeaseMs (how long a replica's claim on a queued Slack call or callback lasts),
 *   SWEEP_CRON → sweepCron, LOG_LEVEL → logLevel,
 *   COUNTERSIGN_SIGNING_KEY → signingKey (PKCS#8 PEM of an Ed25519 key, given inline or as a file path),
 *   SLACK_TEAM_ID → slackTeamIds (workspaces whose signed requests are answered; default: the token's, from auth.test).
 * Unset optional settings are null, never undefined.
 */

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ENV_DEFAULTS = {
  SLACK_API_URL: "https://slack.com/api/",
  PORT: 3000,
  DATABASE_PATH: "./data/countersign.db",
  DATABASE_POOL_SIZE: 10,
  DATABASE_CONNECT_TIMEOUT: 30,
  WORK_LEASE_SECONDS: 120,
  COUNTERSIGN_CONFIG: "./countersign.yml",
  SWEEP_CRON: "*/10 * * * * *",
  LOG_LEVEL: "info",
} as const;

const ENV_KEYS = [
  "SLACK_BOT_TOKEN",
  "SLACK_SIGNING_SECRET",
  "SLACK_APP_TOKEN",
  "SLACK_API_URL",
  "PORT",
  "DATABASE_PATH",
  "DATABASE_URL",
  "DATABASE_POOL_SIZE",
  "DATABASE_CONNECT_TIMEOUT",
  "WORK_LEASE_SECONDS",
  "COUNTERSIGN_CONFIG",
  "SWEEP_CRON",
  "LOG_LEVEL",
  "COUNTERSIGN_SIGNING_KEY",
  "SLACK_TEAM_ID",
] as const;

const got = (input: unknown): string => ` (got ${JSON.stringify(input)})`;

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/**
 * COUNTERSIGN_SIGNING_KEY: the PEM itself (real newlines or "\n") or the path of a
 * PEM file; normalised to PKCS#8 PEM. Never echoed back: it is a private key.
 */
function readSigningKey(value: string): { pem: string } | { problem: string } {
  let text = value;
  if (!value.startsWith("-----BEGIN")) {
    try {
      text = readFileSync(value, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return {
        problem: `must be a PKCS#8 PEM Ed25519 private key or the path of one; cannot read the file (${code ?? "error"})`,
      };
    }
  }
  try {
    const key = createPrivateKey(text.replaceAll("\\n", "\n"));
    if (key.asymmetricKeyType !== "ed25519") {
      return { problem: `must be an Ed25519 private key (got ${key.asymmetricKeyType ?? "another kind"})` };
    }
    return { pem: String(key.export({ format: "pem", type: "pkcs8" })) };
  } catch {
    return {
      problem: "is not a readable private key; expected PKCS#8 PEM (openssl genpkey -algorithm ed25519)",
    };
  }
}

/** Printable ASCII without spaces: what Slack issues, and what an HTTP header can carry. */
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
/** Slack's signing secrets are 32 hex characters; anything much shorter is a placeholder or a typo. */
export const MIN_SIGNING_SECRET_LENGTH = 16;
/** Characters a token needs after its prefix: `xoxb-` alone (or `xoxb-…`) is a placeholder. */
export const MIN_TOKEN_BODY_LENGTH = 8;

/**
 * A Slack token or secret. Secrets are never echoed back in messages, hence no
 * "(got …)" on these checks; the messages say what is wrong, not what was given.
 */
function slackSecret(required: boolean, kind: { prefix: string; what: string } | { minLength: number }) {
  let base = z.string({ error: "required for npm start" }).refine((s) => PRINTABLE_ASCII.test(s), {
    error:
      "contains spaces or non-ASCII characters (a placeholder such as xoxb-… copied from the docs?); paste the value Slack shows",
    abort: true,
  });
  if ("prefix" in kind) {
    const { prefix, what } = kind;
    base = base
      .refine((s) => s.startsWith(prefix), { error: `must start with "${prefix}" (${what})`, abort: true })
      .refine((s) => s.length >= prefix.length + MIN_TOKEN_BODY_LENGTH, {
        error: `is only the "${prefix}" prefix or too short to be a whole token; paste all of it`,
      });
  } else {
    const { minLength } = kind;
    base = base.refine((s) => s.length >= minLength, {
      error: `is too short to be a Slack signing secret (at least ${minLength} characters; Slack's are 32)`,
    });
  }
  return required ? base : base.optional();
}

/** A TCP port setting; shared with the demo's settings. */
export function portSetting(fallback: number) {
  return z
    .string()
    .refine((s) => /^[0-9]{1,5}$/.test(s) && Number(s) <= 65535, {
      error: (iss) => `must be an integer between 0 and 65535${got(iss.input)}`,
    })
    .transform(Number)
    .default(fallback);
}

function isPostgresUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "postgres:" || url.protocol === "postgresql:") && url.hostname !== "";
  } catch {
    return false;
  }
}

function wholeNumber(min: number, max: number, fallback: number) {
  return z
    .string()
    .refine((s) => /^[0-9]{1,7}$/.test(s) && Number(s) >= min && Number(s) <= max, {
      error: (iss) => `must be a whole number from ${min} to ${max}${got(iss.input)}`,
    })
    .transform(Number)
    .default(fallback);
}

export function logLevelSetting(fallback: LogLevel) {
  return z
    .enum(LOG_LEVELS, { error: (iss) => `must be one of ${LOG_LEVELS.join(", ")}${got(iss.input)}` })
    .default(fallback);
}

/** Blank values count as unset. */
export function cleanEnv(
  source: Record<string, string | undefined>,
  keys: readonly string[],
): Record<string, string | undefined> {
  const cleaned: Record<string, string | undefined> = {};
  for (const key of keys) {
    const value = source[key]?.trim();
    cleaned[key] = value === "" ? undefined : value;
  }
  return cleaned;
}

/** Every zod issue as "NAME: what is wrong". */
export function envProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`);
}

function envSchema(requireSlack: boolean) {
  return z
    .object({
      SLACK_BOT_TOKEN: slackSecret(requireSlack, { prefix: "xoxb-", what: "a bot token" }),
      SLACK_SIGNING_SECRET: slackSecret(requireSlack, { minLength: MIN_SIGNING_SECRET_LENGTH }),
      SLACK_APP_TOKEN: slackSecret(false, { prefix: "xapp-", what: "an app-level token" }),
      SLACK_API_URL: z
        .string()
        .refine(isHttpUrl, { error: (iss) => `must be an http:// or https:// URL${got(iss.input)}` })
        .transform((url) => (url.endsWith("/") ? url : `${url}/`))
        .default(ENV_DEFAULTS.SLACK_API_URL),
      PORT: portSetting(ENV_DEFAULTS.PORT),
      DATABASE_PATH: z.string().default(ENV_DEFAULTS.DATABASE_PATH),
      DATABASE_URL: z
        .string()
        .refine(isPostgresUrl, {
          // Never echoed: the URL usually carries a password.
          error:
            "must be a postgres:// or postgresql:// URL, e.g. postgres://user:pass@host:5432/countersign",
        })
        .optional(),
      DATABASE_POOL_SIZE: wholeNumber(1, 1000, ENV_DEFAULTS.DATABASE_POOL_SIZE),
      DATABASE_CONNECT_TIMEOUT: wholeNumber(0, 3600, ENV_DEFAULTS.DATABASE_CONNECT_TIMEOUT),
      WORK_LEASE_SECONDS: wholeNumber(1, 86_400, ENV_DEFAULTS.WORK_LEASE_SECONDS),
      COUNTERSIGN_CONFIG: z.string().default(ENV_DEFAULTS.COUNTERSIGN_CONFIG),
      SWEEP_CRON: z
        .string()
        .refine((expr) => cron.validate(expr), {
          error: (iss) =>
            `must be a node-cron expression of 5 or 6 fields, e.g. "*/10 * * * * *"${got(iss.input)}`,
        })
        .default(ENV_DEFAULTS.SWEEP_CRON),
      LOG_LEVEL: logLevelSetting(ENV_DEFAULTS.LOG_LEVEL),
      SLACK_TEAM_ID: z
        .string()
        .refine((value) => value.split(",").every((id) => /^[TE][A-Z0-9]{2,}$/.test(id.trim())), {
          error: (iss) =>
            `must be Slack workspace ids like "T0123ABCD" (or an org's "E…"), separated by commas${got(iss.input)}`,
        })
        .transform((value) => value.split(",").map((id) => id.trim()))
        .optional(),
      COUNTERSIGN_SIGNING_KEY: z
        .string()
        .transform((value, ctx) => {
          const read = readSigningKey(value);
          if ("pem" in read) return read.pem;
          ctx.addIssue({ code: "custom", message: read.problem });
          return z.NEVER;
        })
        .optional(),
    })
    .transform((e) => ({
      slackBotToken: e.SLACK_BOT_TOKEN ?? null,
      slackSigningSecret: e.SLACK_SIGNING_SECRET ?? null,
      slackAppToken: e.SLACK_APP_TOKEN ?? null,
      slackApiUrl: e.SLACK_API_URL,
      port: e.PORT,
      databasePath: e.DATABASE_PATH,
      databaseUrl: e.DATABASE_URL ?? null,
      databasePoolSize: e.DATABASE_POOL_SIZE,
      databaseConnectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT * 1000,
      workLeaseMs: e.WORK_LEASE_SECONDS * 1000,
      configPath: e.COUNTERSIGN_CONFIG,
      sweepCron: e.SWEEP_CRON,
      logLevel: e.LOG_LEVEL,
      signingKey: e.COUNTERSIGN_SIGNING_KEY ?? null,
      slackTeamIds: e.SLACK_TEAM_ID ?? null,
    }));
}

export type Env = z.output<ReturnType<typeof envSchema>>;
/** What `npm start` gets: loadEnv with requireSlack guarantees both Slack secrets. */
export type SlackEnv = Env & { slackBotToken: string; slackSigningSecret: string };

export type LoadEnvResult<E> = { ok: true; env: E } | { ok: false; problems: string[] };

/**
 * Parses process settings from `source` (normally process.env, passed in by main.ts).
 * Blank values count as unset; every problem is reported as "NAME: what is wrong".
 */
export function loadEnv(
  source: Record<string, string | undefined>,
  opts: { requireSlack: true },
): LoadEnvResult<SlackEnv>;
export function loadEnv(
  source: Record<string, string | undefined>,
  opts: { requireSlack: boolean },
): LoadEnvResult<Env>;
export function loadEnv(
  source: Record<string, string | undefined>,
  opts: { requireSlack: boolean },
): LoadEnvResult<Env> {
  const result = envSchema(opts.requireSlack).safeParse(cleanEnv(source, ENV_KEYS));
  if (result.success) return { ok: true, env: result.data };
  return { ok: false, problems: envProblems(result.error) };
}
