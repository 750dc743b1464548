import type { Env } from "../config/env.ts";
import { type AppConfig, loadConfigFile } from "../config/file.ts";
import { UsageError } from "./io.ts";

/** COUNTERSIGN_CONFIG, validated as `npm start` does; problems are a UsageError (exit 2). */
export function cliConfig(env: Env, source: Record<string, string | undefined>): AppConfig {
  const result = loadConfigFile(env.configPath, source);
  if (!result.ok) {
    throw new UsageError(
      `invalid configuration file ${env.configPath}`,
      result.problems.map((p) => `${p.path}: ${p.message}`),
    );
  }
  return result.config;
}
