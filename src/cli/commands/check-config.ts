import { formatDuration } from "../../config/duration.ts";
import { loadEnv } from "../../config/env.ts";
import { type AppConfig, loadConfigFile } from "../../config/file.ts";
import { type CliIo, EXIT, type ExitCode, line, UsageError } from "../io.ts";

/** `check-config`: the env as `npm start` needs it and the YAML; every problem listed, or a summary. */
export function checkConfig(io: CliIo): ExitCode {
  const problems: string[] = [];
  const envResult = loadEnv(io.env, { requireSlack: true });
  if (!envResult.ok) problems.push(...envResult.problems.map((p) => `env ${p}`));
  // The YAML is checked even when the env is bad, at the path the env names (or its default).
  const configPath = envResult.ok
    ? envResult.env.configPath
    : io.env.COUNTERSIGN_CONFIG?.trim() || "./countersign.yml";
  const configResult = loadConfigFile(configPath, io.env);
  if (!configResult.ok)
    problems.push(...configResult.problems.map((p) => `${configPath} ${p.path}: ${p.message}`));
  if (problems.length > 0 || !configResult.ok)
    throw new UsageError("the configuration has problems", problems);
  printSummary(io, configPath, configResult.config);
  return EXIT.ok;
}

function printSummary(io: CliIo, path: string, config: AppConfig): void {
  const out = (text = "") => line(io.stdout, text);
  out(`check-config: ok (env and ${path})`);
  out();
  out("Agents:");
  for (const a of config.agents) {
    const hosts = a.callback_hosts === null ? "any host" : a.callback_hosts.join(", ");
    out(
      `  ${a.id}  callbacks: ${a.callback_secret === null ? "off (no callback_secret)" : `signed; ${hosts}`}`,
    );
  }
  out();
  out("Roles:");
  const roles = Object.entries(config.roles);
  if (roles.length === 0) out("  (none)");
  for (const [name, r] of roles) {
    const who = [...r.approvers, ...(r.usergroup === null ? [] : [`group ${r.usergroup}`])].join(", ");
    out(`  ${name}  channel ${r.channel}; approvers: ${who}; escalate to: ${r.escalate_to ?? "nobody"}`);
  }
  out();
  out("Policies (first match wins):");
  out(
    table([
      ["#", "name", "match", "then", "approvals", "ttl", "escalate after"],
      ...config.policies.map((p, i) => [
        String(i),
        p.name,
        JSON.stringify(p.match.spec),
        p.decision === null ? `route ${p.route}` : `${p.decision} by policy`,
        p.decision === null ? String(p.approvals) : "-",
        p.decision === null ? formatDuration(p.ttlMs) : "-",
        p.escalateAfterMs === null ? "-" : formatDuration(p.escalateAfterMs),
      ]),
    ]),
  );
  if (config.redact.length > 0) {
    out();
    out(`Redacted param keys: ${config.redact.join(", ")}`);
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map(
      (r) =>
        `  ${r
          .map((cell, c) => cell.padEnd(widths[c] ?? 0))
          .join("  ")
          .trimEnd()}`,
    )
    .join("\n");
}
