import { z } from "zod";
import { cleanEnv, envProblems, type LoadEnvResult, logLevelSetting, portSetting } from "./env.ts";

export const DEMO_DATABASE_PATH = "./data/demo.db";

/** `npm run demo` reads these settings only, never any Slack setting. */
const demoEnvSchema = z
  .object({
    PORT: portSetting(3000),
    SIM_PORT: portSetting(3001),
    LOG_LEVEL: logLevelSetting("warn"),
    DATABASE_PATH: z.string().default(DEMO_DATABASE_PATH),
    DEMO_SOCKET_MODE: z
      .enum(["0", "1", "true", "false"], { error: "must be 1, 0, true or false" })
      .default("0")
      .transform((v) => v === "1" || v === "true"),
  })
  .transform((e) => ({
    port: e.PORT,
    simPort: e.SIM_PORT,
    logLevel: e.LOG_LEVEL,
    /** Emptied at every start (the simulated Slack starts empty); never the service's own database. */
    databasePath: e.DATABASE_PATH,
    /** Slack traffic over the simulator's WebSocket (Socket Mode) instead of signed HTTP posts. */
    socketMode: e.DEMO_SOCKET_MODE,
  }));

export type DemoEnv = z.output<typeof demoEnvSchema>;

/** Parses the demo's settings from `source` (process.env, passed in by src/demo/main.ts). */
export function loadDemoEnv(source: Record<string, string | undefined>): LoadEnvResult<DemoEnv> {
  const result = demoEnvSchema.safeParse(
    cleanEnv(source, ["PORT", "SIM_PORT", "LOG_LEVEL", "DEMO_SOCKET_MODE", "DATABASE_PATH"]),
  );
  return result.success ? { ok: true, env: result.data } : { ok: false, problems: envProblems(result.error) };
}
