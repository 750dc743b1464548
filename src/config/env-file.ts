import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";

export const DEFAULT_ENV_FILE = ".env";

export type EnvFileResult =
  | { ok: true; env: Record<string, string | undefined>; file: string | null }
  | { ok: false; problems: string[] };

/**
 * The environment as `npm start` and the CLI see it: the `.env` file
 * (`COUNTERSIGN_ENV_FILE`, or `./.env` when it exists) fills in what the
 * environment leaves unset; the environment wins. A line that is not
 * `KEY=value` (say `KEY: value`) is refused naming its line and key, never its
 * value, instead of being skipped and reported later as "required".
 */
export function withEnvFile(source: Record<string, string | undefined>): EnvFileResult {
  const named = source.COUNTERSIGN_ENV_FILE?.trim();
  const file = named || DEFAULT_ENV_FILE;
  if (!existsSync(file)) {
    if (named) return { ok: false, problems: [`COUNTERSIGN_ENV_FILE: no such file ${JSON.stringify(file)}`] };
    return { ok: true, env: { ...source }, file: null };
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    return { ok: false, problems: [`${file}: cannot be read (${reason})`] };
  }
  const problems = malformedLines(text).map((p) => `${file} line ${p.line}: ${p.message}`);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, env: { ...parseEnv(text), ...definedOnly(source) }, file };
}

const ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=(.*)$/;
const LOOKS_LIKE_KEY = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[:\s]/;

/** Lines Node's dotenv parser would silently skip, outside multi-line quoted values. */
export function malformedLines(text: string): { line: number; message: string }[] {
  const problems: { line: number; message: string }[] = [];
  const lines = text.split(/\r?\n/);
  let openQuote: string | null = null;
  lines.forEach((raw, i) => {
    if (openQuote !== null) {
      if (raw.includes(openQuote)) openQuote = null;
      return;
    }
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const assignment = ASSIGNMENT.exec(raw);
    if (assignment) {
      const value = assignment[1]!.trimStart();
      const quote = value[0];
      if ((quote === '"' || quote === "'" || quote === "`") && !value.slice(1).includes(quote))
        openQuote = quote;
      return;
    }
    const key = LOOKS_LIKE_KEY.exec(raw)?.[1];
    problems.push({
      line: i + 1,
      message:
        key === undefined
          ? "not a KEY=value line"
          : `not a KEY=value line (write ${key}=… ; the value is not shown)`,
    });
  });
  return problems;
}

function definedOnly(source: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined) out[k] = v;
  return out;
}
