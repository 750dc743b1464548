import { readFileSync } from "node:fs";
import { text } from "node:stream/consumers";
import { issuesOf } from "../../api/http.ts";
import { createRequestBodySchema } from "../../approvals/request-body.ts";
import { formatDuration } from "../../config/duration.ts";
import type { AppConfig } from "../../config/file.ts";
import { argsHash } from "../../domain/canonical-json.ts";
import type { MatchInput } from "../../policy/match.ts";
import { redact } from "../../redact.ts";
import { cliConfig } from "../config.ts";
import { type CliIo, EXIT, type ExitCode, line, UsageError } from "../io.ts";
import { cliEnv } from "../settings.ts";

/**
 * `policy test <file.json | ->`: a dry run of POST /v1/requests. Validates the
 * body with the API's schema, says which policy matches and why each earlier
 * one did not, and what would happen. Opens no database; stores nothing.
 */
export async function policyTest(io: CliIo, source: string, options: { agent?: string }): Promise<ExitCode> {
  const env = cliEnv(io.env);
  const config = cliConfig(env, io.env);
  const agent =
    options.agent === undefined ? config.agents[0] : config.agents.find((a) => a.id === options.agent);
  if (!agent) {
    throw new UsageError(
      `--agent: no agent ${JSON.stringify(options.agent)} in the config; agents: ${config.agents.map((a) => a.id).join(", ")}`,
    );
  }
  const raw = await readBody(io, source);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new UsageError(
      `invalid_json: ${source === "-" ? "stdin" : source} is not valid JSON: ${(error as Error).message}`,
    );
  }
  const parsed = createRequestBodySchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(
      "invalid_request: request body is invalid (the API would answer 400)",
      issuesOf(parsed.error).map((i) => `${i.path}: ${i.message}`),
    );
  }
  const body = parsed.data;
  const input: MatchInput = { ...body, agent: agent.id };
  const shown = redact(input, config.redact);
  const out = (t = "") => line(io.stdout, t);
  out(
    `agent: ${agent.id}${options.agent === undefined ? " (the first agent; choose another with --agent)" : ""}`,
  );
  out(`action: ${body.action}; args_hash: ${argsHash(body.params)}`);
  out();
  for (const [i, policy] of config.policies.entries()) {
    const failing = policy.match.failing(input);
    if (failing.length > 0) {
      const why = failing.map(
        (key) =>
          `${key} ${JSON.stringify(policy.match.spec[key])} (request has ${describeValue(shown, key)})`,
      );
      out(`policies[${i}] ${policy.name}: no match: ${why.join("; ")}`);
      continue;
    }
    out(`policies[${i}] ${policy.name}: MATCH`);
    out();
    describeOutcome(out, config, policy, body.ttl);
    out();
    out("dry run: nothing was stored");
    return EXIT.ok;
  }
  out();
  out("no policy matches: the API would answer 422 no_matching_policy and store nothing");
  return EXIT.failed;
}

type Policy = AppConfig["policies"][number];

function describeOutcome(
  out: (t?: string) => void,
  config: AppConfig,
  policy: Policy,
  asked: number | undefined,
): void {
  if (policy.decision !== null) {
    const status = policy.decision === "approve" ? "approved" : "rejected";
    out(`→ ${status} by policy at once (resolution ${status}_by_policy); no human is asked`);
    return;
  }
  const role = policy.route === null ? undefined : config.roles[policy.route];
  const who = role
    ? [...role.approvers, ...(role.usergroup === null ? [] : [`members of ${role.usergroup}`])].join(", ")
    : "?";
  out(`→ routed to role ${policy.route} (channel ${role?.channel ?? "?"}; approvers: ${who})`);
  out(`  approvals required: ${policy.approvals}`);
  const ttl = asked === undefined ? policy.ttlMs : Math.min(asked, policy.ttlMs);
  out(
    `  ttl: ${formatDuration(ttl)}${asked === undefined ? " (the policy's)" : asked < policy.ttlMs ? ` (asked ${formatDuration(asked)}; the policy allows ${formatDuration(policy.ttlMs)})` : ` (asked ${formatDuration(asked)}; capped at the policy's)`}, then expired (approval_timeout)`,
  );
  if (policy.escalateAfterMs !== null && policy.escalateAfterMs < ttl) {
    out(
      `  escalation: after ${formatDuration(policy.escalateAfterMs)} to ${role?.escalate_to ?? "nobody"} by DM`,
    );
  } else out("  escalation: none");
}

function describeValue(input: unknown, key: string): string {
  if (key === "risk") return JSON.stringify((input as { risk?: { tier?: unknown } }).risk?.tier ?? null);
  let current: unknown = input;
  for (const segment of key.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, segment))
      return "nothing there";
    current = (current as Record<string, unknown>)[segment];
  }
  return JSON.stringify(current) ?? "nothing there";
}

async function readBody(io: CliIo, source: string): Promise<string> {
  if (source === "-") return text(io.stdin);
  try {
    return readFileSync(source, "utf8");
  } catch (error) {
    throw new UsageError(
      `<file>: cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}
