import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { matcherSchema } from "../policy/match.ts";
import { DURATION_FORMS, formatDuration, parseDuration } from "./duration.ts";

/** The YAML configuration (CONTRACT §2): YAML → ${VAR} expansion → zod → cross-checks, every problem by path. */

export interface ConfigProblem {
  /** Where, e.g. `policies[2].route`, `roles.finance.escalate_to`, or `(file)` for the file as a whole. */
  path: string;
  message: string;
}
export type LoadConfigResult = { ok: true; config: AppConfig } | { ok: false; problems: ConfigProblem[] };

type Path = PropertyKey[];
type Env = Record<string, string | undefined>;

export const DEFAULT_TTL_MS = 3_600_000;
/** Approval tokens (CONTRACT §6): a policy's token_ttl and the top-level issuer. */
export const DEFAULT_TOKEN_TTL_MS = 15 * 60_000;
export const DEFAULT_ISSUER = "countersign";

const q = (value: unknown): string => JSON.stringify(value);

/** Strict objects whose unknown-key message names the keys that are allowed. */
function strict<S extends z.ZodRawShape>(shape: S) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === "unrecognized_keys" ? `unknown key; expected one of: ${allowed}` : undefined,
  });
}

const pattern = (re: RegExp, what: string) =>
  z.string().regex(re, { error: (iss) => `must be ${what} (got ${q(iss.input)})` });

const userIdSchema = pattern(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id like "U0123ABCD"');

function webhookSecretProblem(secret: string): string | null {
  if (!secret.startsWith("whsec_")) return 'must start with "whsec_" (a Standard Webhooks secret)';
  const b64 = secret.slice("whsec_".length);
  const validBase64 =
    /^[A-Za-z0-9+/]+={0,2}$/.test(b64) &&
    b64.length % 4 !== 1 &&
    (!b64.includes("=") || b64.length % 4 === 0);
  if (!validBase64) return 'must be "whsec_" followed by base64';
  const bytes = Buffer.from(b64, "base64").length;
  if (bytes < 24 || bytes > 64) {
    return `must be "whsec_" + base64 of 24 to 64 bytes, but decodes to ${bytes} bytes (try: echo "whsec_$(openssl rand -base64 32)")`;
  }
  return null;
}

const agentSchema = strict({
  id: pattern(
    /^[a-z0-9][a-z0-9._-]*$/,
    'lowercase letters, digits, ".", "_" or "-", starting with a letter or digit',
  ),
  token: z.string().min(16, "must be at least 16 characters (try: openssl rand -hex 32)"),
  callback_secret: z
    .string()
    .superRefine((secret, ctx) => {
      const problem = webhookSecretProblem(secret);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .nullable()
    .default(null),
  callback_hosts: z
    .array(
      z
        .string()
        .trim()
        .toLowerCase()
        .regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, {
          error: (iss) =>
            `must be a host name such as hooks.example.com or *.example.com (got ${q(iss.input)})`,
        }),
    )
    .min(1, "must list at least one host, or be left out to allow any host")
    .nullable()
    .default(null),
});

const roleSchema = strict({
  channel: pattern(/^[CG][A-Z0-9]{2,}$/, 'a Slack channel id like "C0123ABCD" (not a #name)'),
  approvers: z.array(userIdSchema).default([]),
  usergroup: pattern(/^S[A-Z0-9]{2,}$/, 'a Slack user group id like "S0123ABCD"')
    .nullable()
    .default(null),
  escalate_to: userIdSchema.nullable().default(null),
});

const durationSchema = z
  .string({ error: (iss) => `${q(iss.input)} is not a duration; use ${DURATION_FORMS}` })
  .transform((text, ctx) => {
    const ms = parseDuration(text.trim());
    if (ms !== null) return ms;
    ctx.addIssue({ code: "custom", message: `${q(text)} is not a duration; use ${DURATION_FORMS}` });
    return z.NEVER;
  });

const policySchema = strict({
  name: z.string().trim().min(1, "must not be empty"),
  match: matcherSchema,
  decision: z
    .enum(["approve", "reject"], { error: (iss) => `must be approve or reject (got ${q(iss.input)})` })
    .nullable()
    .default(null),
  route: z.string().min(1, "must name a role").nullable().default(null),
  ttl: durationSchema.optional(),
  escalate_after: durationSchema.optional(),
  approvals: z
    .number({ error: (iss) => `must be a whole number of at least 1 (got ${q(iss.input)})` })
    .int()
    .min(1)
    .optional(),
  /** Adds "Edit & approve" to its messages (CONTRACT §9). */
  edits: z.boolean({ error: (iss) => `must be true or false (got ${q(iss.input)})` }).default(false),
  /** Share of matches sent to humans; the rest is approved by policy (CONTRACT §9). */
  sample: z
    .number({ error: (iss) => `must be a number from 0.0 to 1.0 (got ${q(iss.input)})` })
    .min(0, "must be from 0.0 to 1.0")
    .max(1, "must be from 0.0 to 1.0")
    .optional(),
  /** Lifetime of the approval token of a request this policy approves. */
  token_ttl: durationSchema.optional(),
}).transform((p) => ({
  name: p.name,
  match: p.match,
  decision: p.decision,
  route: p.route,
  ttlMs: p.ttl ?? DEFAULT_TTL_MS,
  escalateAfterMs: p.escalate_after ?? null,
  approvals: p.approvals ?? 1,
  edits: p.edits,
  sample: p.sample ?? null,
  tokenTtlMs: p.token_ttl ?? DEFAULT_TOKEN_TTL_MS,
}));

const configSchema = strict({
  agents: z.array(agentSchema).min(1, "must list at least one agent"),
  roles: z
    .record(
      pattern(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a role name of letters, digits, ".", "_" or "-"'),
      roleSchema,
    )
    .nullable()
    .default({})
    .transform((roles) => roles ?? {}),
  policies: z.array(policySchema).min(1, "must list at least one policy"),
  /** Param keys shown as "[redacted]" in Slack. */
  redact: z.array(z.string().min(1, "must not be empty")).default([]),
  /** Callback delivery; private targets (loopback, RFC 1918…) only when allowed, for local development. */
  callbacks: strict({
    allow_private_targets: z
      .boolean({ error: (iss) => `must be true or false (got ${describe(iss.input)})` })
      .default(false),
  })
    .nullable()
    .default(null)
    .transform((c) => ({ allow_private_targets: c?.allow_private_targets ?? false })),
  /** The `iss` claim of approval tokens. */
  issuer: z.string().trim().min(1, "must not be empty").max(200).default(DEFAULT_ISSUER),
});

export type AppConfig = z.output<typeof configSchema>;
export type Agent = z.output<typeof agentSchema>;
export type Role = z.output<typeof roleSchema>;
export type Policy = z.output<typeof policySchema>;

function describe(input: unknown): string {
  if (input === null) return "nothing";
  if (Array.isArray(input)) return "a list";
  return typeof input === "object" ? "a mapping" : q(input);
}

const EXPECTED: Record<string, string> = { array: "a list", object: "a mapping", record: "a mapping" };

/** Messages for the zod issues that the schemas above leave generic. */
const errorMap = (iss: z.core.$ZodRawIssue): string | undefined => {
  if (iss.code !== "invalid_type") return undefined;
  if (iss.input === undefined) return "required";
  return `must be ${EXPECTED[iss.expected] ?? `a ${iss.expected}`} (got ${describe(iss.input)})`;
};

/** `agents[0].token`, `roles.support-lead.channel`, `policies[0].match["params.amount"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment))
      out += out ? `.${segment}` : segment;
    else out += `[${q(String(segment))}]`;
  }
  return out || "(file)";
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** `${NAME}` → env value; `$${` → a literal `${`. Keys are never expanded, only string values. */
function expand(value: unknown, path: Path, env: Env, add: (path: Path, message: string) => void): unknown {
  if (Array.isArray(value)) return value.map((v, i) => expand(v, [...path, i], env, add));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v, [...path, k], env, add)]));
  }
  if (typeof value !== "string") return value;
  return value.replace(/\$\$\{|\$\{([^}]*)\}|\$\{/g, (found, name: string | undefined) => {
    if (found === "$${") return "${";
    if (name === undefined)
      add(path, `has "\${" without a closing "}"; write \${NAME}, or $\${ for a literal \${`);
    else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      add(path, `${q(found)} is not a variable reference; write \${NAME}`);
    else if (env[name] === undefined) add(path, `environment variable ${name} is not set`);
    else if (env[name] === "") add(path, `environment variable ${name} is empty`);
    else return env[name];
    return found;
  });
}

/** The ms of a raw duration value: `fallback` when absent, null when it does not parse (reported elsewhere). */
const rawDuration = (value: unknown, fallback: number | null): number | null =>
  value === undefined ? fallback : typeof value === "string" ? parseDuration(value.trim()) : null;

/** Index of the first entry with the same key, remembering this one when it is the first. */
function firstSeen(seen: Map<string, number>, key: unknown, index: number): number | undefined {
  if (typeof key !== "string") return undefined;
  const before = seen.get(key);
  if (before === undefined) seen.set(key, index);
  return before;
}

/** Rules that relate several entries; run on the expanded document, using only entries that parse. */
function crossCheck(doc: Record<string, unknown>, add: (path: Path, message: string) => void): void {
  const ids = new Map<string, number>();
  const tokens = new Map<string, number>();
  (Array.isArray(doc.agents) ? doc.agents : []).forEach((agent: unknown, i) => {
    if (!isRecord(agent)) return;
    const idBefore = firstSeen(ids, agent.id, i);
    if (idBefore !== undefined)
      add(["agents", i, "id"], `duplicate agent id ${q(agent.id)} (also agents[${idBefore}])`);
    const tokenBefore = firstSeen(tokens, agent.token, i);
    if (tokenBefore !== undefined)
      add(["agents", i, "token"], `same token as agents[${tokenBefore}]; each agent needs its own`);
  });

  const roles = new Map<string, Role | null>(); // null: present but malformed, reported at its own path
  for (const [name, raw] of Object.entries(isRecord(doc.roles) ? doc.roles : {})) {
    const parsed = roleSchema.safeParse(raw);
    roles.set(name, parsed.success ? parsed.data : null);
    const hasApprovers = isRecord(raw) && Array.isArray(raw.approvers) && raw.approvers.length > 0;
    if (isRecord(raw) && !hasApprovers && raw.usergroup == null) {
      add(["roles", name], "needs approvers or a usergroup; nobody could approve its requests");
    }
  }
  const knownRoles = roles.size > 0 ? `known roles: ${[...roles.keys()].join(", ")}` : "no roles are defined";

  const names = new Map<string, number>();
  (Array.isArray(doc.policies) ? doc.policies : []).forEach((policy: unknown, i) => {
    if (!isRecord(policy)) return;
    const at = (...rest: PropertyKey[]): Path => ["policies", i, ...rest];
    const nameBefore = firstSeen(names, policy.name, i);
    if (nameBefore !== undefined)
      add(at("name"), `duplicate policy name ${q(policy.name)} (also policies[${nameBefore}])`);

    const hasDecision = policy.decision != null;
    const hasRoute = policy.route != null;
    if (hasDecision && hasRoute) add(at(), "has both decision and route; give exactly one");
    else if (!hasDecision && !hasRoute)
      add(at(), "needs exactly one of decision (approve or reject) or route (a role)");
    else if (hasDecision) {
      for (const key of ["ttl", "escalate_after", "approvals", "edits", "sample"]) {
        if (policy[key] !== undefined)
          add(at(key), "means nothing with decision (no human is asked); remove it");
      }
      if (policy.decision === "reject" && policy.token_ttl !== undefined)
        add(at("token_ttl"), "means nothing with decision: reject (no token is issued); remove it");
    }
    const route = policy.route;
    if (typeof route !== "string" || route === "") return;
    if (!roles.has(route)) {
      add(at("route"), `unknown role ${q(route)}; ${knownRoles}`);
      return;
    }

    const ttlMs = rawDuration(policy.ttl, DEFAULT_TTL_MS);
    const escalateMs = rawDuration(policy.escalate_after, null);
    if (ttlMs !== null && escalateMs !== null && escalateMs >= ttlMs) {
      const ttl = `${policy.ttl === undefined ? "the default ttl" : "ttl"} ${formatDuration(ttlMs)}`;
      add(at("escalate_after"), `must be shorter than ${ttl} (got ${formatDuration(escalateMs)})`);
    }
    const role = roles.get(route);
    if (!role) return;
    if (policy.escalate_after !== undefined && role.escalate_to === null) {
      add(
        at("escalate_after"),
        `role ${q(route)} has no escalate_to; set roles.${route}.escalate_to or remove this`,
      );
    }
    const approvals = policy.approvals;
    const approvers = new Set(role.approvers).size;
    const reachable = role.usergroup !== null || typeof approvals !== "number" || approvals <= approvers;
    if (Number.isInteger(approvals) && !reachable) {
      add(
        at("approvals"),
        `${approvals} approvals can never be satisfied: role ${q(route)} has ${approvers} approver(s) and no usergroup`,
      );
    }
  });
}

/** Validates YAML text against the config rules; pure (env passed in), so tests use it directly. */
export function parseConfig(yamlText: string, env: Env): LoadConfigResult {
  const problems: ConfigProblem[] = [];
  const lineCounter = new LineCounter();
  const document = parseDocument(yamlText, { prettyErrors: false, lineCounter });
  for (const error of document.errors) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    problems.push({
      path: "(file)",
      message: `YAML syntax error at line ${line}, column ${col}: ${error.message}`,
    });
  }
  if (problems.length > 0) return { ok: false, problems };

  const raw: unknown = document.toJS();
  if (!isRecord(raw)) {
    const message =
      raw == null
        ? "is empty; expected agents, roles and policies"
        : `must be a mapping with agents, roles and policies (got ${describe(raw)})`;
    return { ok: false, problems: [{ path: "(file)", message }] };
  }

  // A value whose ${VAR} failed to expand is not reported again by the later stages.
  const expansionPaths = new Set<string>();
  const add = (path: Path, message: string) => {
    const formatted = formatPath(path);
    if (!expansionPaths.has(formatted)) problems.push({ path: formatted, message });
  };
  const doc = expand(raw, [], env, (path, message) =>
    problems.push({ path: formatPath(path), message }),
  ) as Record<string, unknown>;
  for (const p of problems) expansionPaths.add(p.path);

  const parsed = configSchema.safeParse(doc, { error: errorMap });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys")
        for (const key of issue.keys) add([...issue.path, key], issue.message);
      else if (issue.code === "invalid_key") add(issue.path, issue.issues[0]?.message ?? issue.message);
      else add(issue.path, issue.message);
    }
  }
  crossCheck(doc, add);

  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, config: parsed.data };
}

/** Reads and validates the config file at `path`; a missing file is a problem, not an exception. */
export function loadConfigFile(path: string, env: Env): LoadConfigResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === "ENOENT"
        ? `${path} does not exist; create it (see countersign.example.yml) or point COUNTERSIGN_CONFIG at it`
        : `cannot read ${path}: ${(error as Error).message}`;
    return { ok: false, problems: [{ path: "(file)", message }] };
  }
  return parseConfig(text, env);
}
