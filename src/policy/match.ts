import { z } from "zod";
import { RISK_TIERS } from "../domain/vocabulary.ts";

/**
 * Policy matchers (CONTRACT §2). Keys of a `match` mapping, all ANDed ({} matches everything):
 *   action  glob or list of globs; `*` is any run of characters (dots included), the rest literal
 *   agent   agent id or list of ids
 *   risk    risk tier or list of tiers, compared with the request's risk.tier
 *   other   a dotted path into the request body ("params.amount", "target", "risk.score"), compared
 *           with { eq, in, lt, lte, gt, gte } (ANDed) or a bare scalar for equality. Numeric
 *           operators only match numbers, and a path that is not there never matches.
 */

/** The validated request body plus the calling agent's id. */
export type MatchInput = {
  action: string;
  agent: string;
  risk?: { tier?: string; [key: string]: unknown } | null;
  [key: string]: unknown;
};

export interface Matcher {
  /** The match mapping as written in the config, for logs and error messages. */
  readonly spec: Readonly<Record<string, unknown>>;
  readonly test: (input: MatchInput) => boolean;
  /** Why an input matches, one line per condition (e.g. "params.amount 75 ≤ 200"); [] for `{}`. */
  readonly explain: (input: MatchInput) => string[];
  /** The keys of `spec` the input fails, in order (empty when it matches); for explaining a dry run. */
  readonly failing: (input: MatchInput) => string[];
}

export const OPERATORS = ["eq", "in", "lt", "lte", "gt", "gte"] as const;

type Scalar = string | number | boolean | null;
type Predicate = (input: MatchInput) => boolean;
type Explained = { test: Predicate; explain: (input: MatchInput) => string };
type Issue = { message: string; path: PropertyKey[] };

const MISSING: unique symbol = Symbol("missing");
const OPERATOR_LIST = OPERATORS.join(", ");

const scalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: "must be a string, number, boolean or null",
});
const numberOperand = (op: string) =>
  z.number({ error: (iss) => `${op} compares numbers; got ${JSON.stringify(iss.input)}` }).optional();

const operatorsSchema = z.strictObject(
  {
    eq: scalarSchema.optional(),
    in: z
      .array(scalarSchema, { error: "in takes a list of values" })
      .min(1, "in needs at least one value")
      .optional(),
    lt: numberOperand("lt"),
    lte: numberOperand("lte"),
    gt: numberOperand("gt"),
    gte: numberOperand("gte"),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? `unknown operator ${iss.keys.map((k) => JSON.stringify(k)).join(", ")}; use ${OPERATOR_LIST}`
        : undefined,
  },
);

type Operators = z.output<typeof operatorsSchema>;

const nonEmpty = z.string({ error: "must be a string" }).min(1, "must not be empty");
const tierSchema = z.enum(RISK_TIERS, {
  error: (iss) => `unknown risk tier ${JSON.stringify(iss.input)}; use ${RISK_TIERS.join(", ")}`,
});

function parseWith<T>(schema: z.ZodType<T>, value: unknown, issues: Issue[]): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) issues.push({ message: issue.message, path: issue.path });
  return undefined;
}

/** A single value or a non-empty list of them; issues point into the list only when it is one. */
function oneOrMany<T>(item: z.ZodType<T>, value: unknown, issues: Issue[]): T[] | undefined {
  if (!Array.isArray(value)) {
    const one = parseWith(item, value, issues);
    return one === undefined ? undefined : [one];
  }
  if (value.length === 0) {
    issues.push({ message: "must list at least one value", path: [] });
    return undefined;
  }
  return parseWith(z.array(item), value, issues);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Whole-string globs where `*` is any run of characters; compiled once into one RegExp. */
export function globsToRegExp(globs: readonly string[]): RegExp {
  const alternatives = globs.map((g) =>
    g.replace(/\*+/g, "*").split("*").map(escapeRegExp).join("[\\s\\S]*"),
  );
  return new RegExp(`^(?:${alternatives.join("|")})$`);
}

function resolvePath(root: unknown, segments: readonly string[]): unknown {
  let current = root;
  for (const segment of segments) {
    if (current === null || typeof current !== "object") return MISSING;
    if (Array.isArray(current) && !/^(0|[1-9][0-9]*)$/.test(segment)) return MISSING;
    if (!Object.hasOwn(current, segment)) return MISSING;
    current = (current as Record<string, unknown>)[segment];
  }
  return current === undefined ? MISSING : current;
}

function conditionPredicate(ops: Operators): (value: unknown) => boolean {
  const checks: ((value: unknown) => boolean)[] = [];
  if ("eq" in ops) checks.push((v) => v === ops.eq);
  if (ops.in !== undefined) {
    const allowed = new Set<Scalar>(ops.in);
    checks.push((v) => allowed.has(v as Scalar));
  }
  const { lt, lte, gt, gte } = ops;
  if (lt !== undefined) checks.push((v) => typeof v === "number" && v < lt);
  if (lte !== undefined) checks.push((v) => typeof v === "number" && v <= lte);
  if (gt !== undefined) checks.push((v) => typeof v === "number" && v > gt);
  if (gte !== undefined) checks.push((v) => typeof v === "number" && v >= gte);
  return (v) => v !== MISSING && checks.every((check) => check(v));
}

function parseCondition(value: unknown, issues: Issue[]): Operators | undefined {
  if (Array.isArray(value)) {
    issues.push({ message: "a list is not a value; use { in: [...] } to match any of several", path: [] });
    return undefined;
  }
  if (value !== null && typeof value === "object") {
    if (Object.keys(value).length === 0) {
      issues.push({ message: `needs at least one of ${OPERATOR_LIST}`, path: [] });
      return undefined;
    }
    return parseWith(operatorsSchema, value, issues);
  }
  const eq = parseWith(scalarSchema, value, issues);
  return eq === undefined ? undefined : { eq };
}

const show = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));
const listed = (values: readonly unknown[]): string =>
  values.length === 1 ? show(values[0]) : `one of ${values.map(show).join(", ")}`;

/** "75 ≤ 200", "USD = USD", "medium in [low, medium]": the operators that held, for the evidence pack. */
function explainOps(ops: Operators, value: unknown): string {
  const parts: string[] = [];
  if ("eq" in ops) parts.push(`= ${show(ops.eq)}`);
  if (ops.in !== undefined) parts.push(`in [${ops.in.map(show).join(", ")}]`);
  if (ops.lt !== undefined) parts.push(`< ${ops.lt}`);
  if (ops.lte !== undefined) parts.push(`≤ ${ops.lte}`);
  if (ops.gt !== undefined) parts.push(`> ${ops.gt}`);
  if (ops.gte !== undefined) parts.push(`≥ ${ops.gte}`);
  return `${show(value)} ${parts.join(", ")}`;
}

function compileKey(key: string, value: unknown, issues: Issue[]): Explained | undefined {
  switch (key) {
    case "action": {
      const globs = oneOrMany(nonEmpty, value, issues);
      if (!globs) return undefined;
      const re = globsToRegExp(globs);
      return {
        test: (input) => typeof input.action === "string" && re.test(input.action),
        explain: (input) => `action ${input.action} matches ${listed(globs)}`,
      };
    }
    case "agent": {
      const agents = oneOrMany(nonEmpty, value, issues);
      if (!agents) return undefined;
      const allowed = new Set(agents);
      return { test: (input) => allowed.has(input.agent), explain: (input) => `agent ${input.agent}` };
    }
    case "risk": {
      const tiers = oneOrMany(tierSchema, value, issues);
      if (!tiers) return undefined;
      const allowed = new Set<string>(tiers);
      return {
        test: (input) => typeof input.risk?.tier === "string" && allowed.has(input.risk.tier),
        explain: (input) => `risk ${input.risk?.tier ?? "?"} is ${listed(tiers)}`,
      };
    }
    default: {
      const segments = key.split(".");
      if (segments.some((s) => s === "")) {
        issues.push({ message: "is not a dotted path like params.amount (empty segment)", path: [] });
        return undefined;
      }
      const ops = parseCondition(value, issues);
      if (!ops) return undefined;
      const holds = conditionPredicate(ops);
      return {
        test: (input) => holds(resolvePath(input, segments)),
        explain: (input) => `${key} ${explainOps(ops, resolvePath(input, segments))}`,
      };
    }
  }
}

/** zod schema for a `match` mapping; parses straight into a compiled Matcher. */
export const matcherSchema = z
  .record(z.string(), z.unknown(), {
    error: (iss) =>
      iss.input === undefined
        ? "required (use {} to match everything)"
        : 'must be a mapping such as { action: "refund.*" } (use {} to match everything)',
  })
  .transform((raw, ctx): Matcher => {
    const predicates: Explained[] = [];
    const keys: string[] = [];
    let failed = false;
    for (const [key, value] of Object.entries(raw)) {
      const issues: Issue[] = [];
      const predicate = compileKey(key, value, issues);
      for (const issue of issues)
        ctx.addIssue({ code: "custom", message: issue.message, path: [key, ...issue.path] });
      if (predicate) {
        predicates.push(predicate);
        keys.push(key);
      } else failed = true;
    }
    if (failed) return z.NEVER;
    return {
      spec: raw,
      test: (input) => predicates.every((p) => p.test(input)),
      explain: (input) => predicates.map((p) => p.explain(input)),
      failing: (input) => keys.filter((_, i) => !predicates[i]?.test(input)),
    };
  });

/** Compiles a `match` mapping; throws a ZodError when it is malformed (config loading reports those by path). */
export function compileMatcher(raw: unknown): Matcher {
  return matcherSchema.parse(raw);
}

/** First policy whose matcher accepts the input, or null (the API answers 422, nothing stored). */
export function findPolicy<P extends { readonly match: Matcher }>(
  policies: readonly P[],
  input: MatchInput,
): P | null {
  for (const policy of policies) if (policy.match.test(input)) return policy;
  return null;
}
