import { loadEnv } from "./config/env.ts";
import { withEnvFile } from "./config/env-file.ts";
import { loadConfigFile } from "./config/file.ts";
import { createLogger } from "./log.ts";
import { StartupError, startService } from "./service.ts";
import { describeServer } from "./storage/open.ts";

/**
 * Composition root: read env → load config → open db + migrate → start the
 * Slack app, agent API and sweeper. A bad setting stops start-up with every
 * problem listed, before anything listens.
 */
async function main(): Promise<void> {
  // A .env file (KEY=value lines) fills in what the environment leaves unset; the environment wins.
  const source = withEnvFile(process.env);
  if (!source.ok) return fail("invalid environment", source.problems);
  const envResult = loadEnv(source.env, { requireSlack: true });
  if (!envResult.ok) return fail("invalid environment", envResult.problems);
  const env = envResult.env;
  const configResult = loadConfigFile(env.configPath, source.env);
  if (!configResult.ok) {
    return fail(
      `invalid configuration file ${env.configPath}`,
      configResult.problems.map((p) => `${p.path}: ${p.message}`),
    );
  }
  const log = createLogger(env.logLevel);
  const service = await startService({
    config: configResult.config,
    slack: {
      botToken: env.slackBotToken,
      signingSecret: env.slackSigningSecret,
      appToken: env.slackAppToken,
      apiUrl: env.slackApiUrl,
      teamIds: env.slackTeamIds,
    },
    port: env.port,
    database:
      env.databaseUrl === null
        ? env.databasePath
        : {
            postgresUrl: env.databaseUrl,
            poolSize: env.databasePoolSize,
            connectTimeoutMs: env.databaseConnectTimeoutMs,
          },
    log,
    sweepCron: env.sweepCron,
    leaseMs: env.workLeaseMs,
    signingKey: env.signingKey,
  });
  log.info(
    {
      port: service.port,
      mode: env.slackAppToken === null ? "http" : "socket",
      // Never the URL itself: it carries the password.
      database: env.databaseUrl === null ? env.databasePath : `postgres://${describeServer(env.databaseUrl)}`,
    },
    `countersign listening on :${service.port} (Slack at /slack/events, agents at /v1)`,
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: finishing in-flight work");
    // In-flight Slack calls are aborted after a few seconds, so this is only a backstop.
    const force = setTimeout(() => {
      log.error("shutdown took longer than 9.5s; exiting");
      process.exit(1);
    }, 9_500);
    force.unref();
    service.stop().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

function fail(what: string, problems: string[]): void {
  process.stderr.write(`countersign: ${what}:\n${problems.map((p) => `  - ${p}`).join("\n")}\n`);
  process.exit(2);
}

main().catch((error: unknown) => {
  if (error instanceof StartupError) return fail("cannot start", [error.message]);
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `countersign: failed to start: ${code === "EADDRINUSE" ? `PORT: ${message}` : message}\n`,
  );
  process.exit(1);
});
