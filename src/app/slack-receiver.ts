import type { RequestListener, Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { App, type CustomRoute, HTTPReceiver, SocketModeReceiver } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { answerClientErrors, frontDoor } from "../api/front-door.ts";
import { systemClock } from "../clock.ts";
import type { boltLogger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { teamGuard } from "../slack/team-guard.ts";
import { StartupError } from "./lifecycle.ts";

export const SLACK_EVENTS_PATH = "/slack/events";

export interface SlackReceiverOptions {
  slack: {
    botToken: string;
    signingSecret: string;
    appToken: string | null;
    teamIds?: readonly string[] | null;
  };
  port: number;
  host?: string;
  /** The agent API, served on the same listener. */
  routes: CustomRoute[];
  /** Options of the WebClient Bolt builds for listeners (quick calls while answering Slack). */
  clientOptions: { slackApiUrl: string; retryConfig: { retries: number }; timeout: number };
  /** The client start-up checks the bot token with (auth.test). */
  apiClient: WebClient;
  log: Logger;
  /** The Bolt-shaped logger every Slack client of this process shares. */
  slackLogger: ReturnType<typeof boltLogger>;
  /** Counts interactions refused for coming from another workspace. */
  metrics: Pick<Metrics, "refusedClick">;
}

/**
 * The Bolt app and its receiver (HTTP, or Socket Mode when SLACK_APP_TOKEN is
 * set), built by hand instead of by App so that the front door
 * (api/front-door.ts) sees every request before Bolt does, and so that an
 * unreachable Slack at start-up does not crash the process.
 */
export async function createSlackApp(options: SlackReceiverOptions): Promise<App> {
  const { log, apiClient, clientOptions, slackLogger } = options;
  let identity = await checkBotToken(apiClient, log);
  const door = {
    slackEndpoints: options.slack.appToken === null ? [SLACK_EVENTS_PATH] : [],
    now: () => systemClock.now(),
    log,
  };
  let receiver: HTTPReceiver | SocketModeReceiver;
  if (options.slack.appToken === null) {
    const http = new HTTPReceiver({
      signingSecret: options.slack.signingSecret,
      endpoints: [SLACK_EVENTS_PATH],
      port: options.port,
      customRoutes: options.routes,
      logger: slackLogger,
    });
    http.requestListener = frontDoor(http.requestListener, door);
    receiver = http;
  } else {
    receiver = new SocketModeReceiver({
      appToken: options.slack.appToken,
      logger: slackLogger,
      customRoutes: options.routes,
      installerOptions: { port: options.port, clientOptions },
    });
    // Its HTTP server (the agent API) is created now and listens at start(); it is not public.
    const server = (receiver as unknown as { httpServer?: Server }).httpServer;
    if (server) {
      const inner = server.listeners("request") as RequestListener[];
      server.removeAllListeners("request");
      server.on(
        "request",
        frontDoor((req, res) => {
          for (const listener of inner) listener.call(server, req, res);
        }, door),
      );
      answerClientErrors(server);
    }
  }
  const app = new App({
    // Our own authorize (instead of `token`) so an unreachable Slack at start-up
    // does not crash the process: auth.test is retried on the next interaction.
    authorize: async () => {
      identity ??= await checkBotToken(apiClient, log);
      return {
        botToken: options.slack.botToken,
        ...(identity?.botId ? { botId: identity.botId } : {}),
        ...(identity?.botUserId ? { botUserId: identity.botUserId } : {}),
      };
    },
    receiver,
    logger: slackLogger,
    clientOptions,
  });
  // Only the configured workspaces (SLACK_TEAM_ID), else the bot token's own, are answered.
  const configuredTeams = options.slack.teamIds?.length ? new Set(options.slack.teamIds) : null;
  app.use(
    teamGuard({
      allowed: async () => {
        if (configuredTeams !== null) return configuredTeams;
        identity ??= await checkBotToken(apiClient, log);
        return identity?.teamId ? new Set([identity.teamId]) : null;
      },
      log,
      metrics: options.metrics,
    }),
  );
  return app;
}

/**
 * Starts the app's listener. HTTP mode: resolves with the listening server.
 * Socket Mode: Bolt opens the HTTP listener (the agent API) at once, but its
 * start() resolves only once the WebSocket is up, retrying for as long as
 * Slack is unreachable. Agents must not wait for Slack, so it connects in the
 * background and this resolves as soon as PORT answers.
 */
export async function startSlackApp(
  app: App,
  options: Pick<SlackReceiverOptions, "slack" | "port" | "host" | "log">,
): Promise<{ server: Server | null; port: number }> {
  const { log } = options;
  let started: unknown;
  if (options.slack.appToken === null) {
    started = await app.start(
      options.host === undefined ? options.port : { port: options.port, host: options.host },
    );
  } else {
    app.start().then(
      () => log.info("Socket Mode connected to Slack"),
      (error: unknown) => log.error({ err: error }, "Socket Mode could not connect to Slack"),
    );
    await waitForPort(options.port, options.host ?? "127.0.0.1");
  }
  const server = httpServerOf(started);
  if (server !== null) answerClientErrors(server);
  const address = server?.address() as AddressInfo | null | undefined;
  return { server, port: address?.port ?? options.port };
}

/** Resolves once something accepts TCP connections on host:port (bounded). */
async function waitForPort(port: number, host: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new StartupError(`PORT: nothing is listening on ${host}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** app.start() returns the http.Server in HTTP mode, something else in Socket Mode. */
function httpServerOf(started: unknown): Server | null {
  const server = started as Partial<Server> | undefined;
  return typeof server?.address === "function" && typeof server.closeIdleConnections === "function"
    ? (server as Server)
    : null;
}

/** Errors from auth.test that mean the token itself is wrong: start-up stops. */
const BAD_TOKEN = new Set([
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "not_allowed_token_type",
]);

/**
 * auth.test at start-up: a token Slack rejects stops start-up with a clear
 * message; an unreachable Slack only warns (messages wait in the outbox).
 */
async function checkBotToken(
  client: WebClient,
  log: Logger,
): Promise<{ botId?: string; botUserId?: string; teamId?: string } | null> {
  try {
    const result = await client.auth.test();
    return {
      ...(result.bot_id ? { botId: result.bot_id } : {}),
      ...(result.user_id ? { botUserId: result.user_id } : {}),
      ...(result.team_id ? { teamId: result.team_id } : {}),
    };
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    if (code !== undefined && BAD_TOKEN.has(code)) {
      throw new StartupError(`SLACK_BOT_TOKEN: Slack rejected the token (${code})`);
    }
    log.warn(
      { err: error },
      "Slack is not reachable (auth.test failed); starting anyway, messages will wait in the outbox",
    );
    return null;
  }
}
