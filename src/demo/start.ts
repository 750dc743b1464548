import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { Logger } from "pino";
import type { Clock } from "../clock.ts";
import { type AppConfig, parseConfig } from "../config/file.ts";
import { type FakeSlack, startFakeSlack } from "../fake-slack/slack-api.ts";
import { type Service, startService } from "../service.ts";
import { validateMessage } from "../slack/render/index.ts";
import { DEMO_CHANNEL_NAMES, DEMO_USERGROUPS, DEMO_USERS, personas } from "./directory.ts";
import { createSimulator } from "./page/server.ts";
import { SAMPLES } from "./samples.ts";

/** Not secrets: the demo's Slack side is a simulator on localhost. */
export const DEMO_BOT_TOKEN = "xoxb-demo-not-a-real-token";
export const DEMO_SIGNING_SECRET = "demo-signing-secret-not-for-production";
export const DEMO_APP_TOKEN = "xapp-demo-not-a-real-token";
export const DEMO_CONFIG_URL = new URL("./demo-config.yml", import.meta.url);

export interface DemoOptions {
  /** countersign's port; 0 picks a free one. */
  port: number;
  /** The simulated Slack (Web API and the /sim page); 0 picks a free one. */
  simPort: number;
  /** SQLite file (or ":memory:"). */
  dbPath: string;
  log: Logger;
  clock?: Clock;
  /** node-cron expression of the sweep; null runs none (tests call sweepNow). Default every 5 s. */
  sweepCron?: string | null;
  config?: AppConfig;
  /** Slack traffic over the simulator's WebSocket (Socket Mode), as with SLACK_APP_TOKEN set. */
  socketMode?: boolean;
}

export interface Demo {
  service: Service;
  slack: FakeSlack;
  config: AppConfig;
  /** countersign's base URL (agent API under /v1). */
  apiUrl: string;
  /** The simulator page. */
  simUrl: string;
  stop(): Promise<void>;
}

/** The checked-in demo configuration; it has no ${VARS}, so it needs no environment. */
export function loadDemoConfig(): AppConfig {
  const result = parseConfig(readFileSync(DEMO_CONFIG_URL, "utf8"), {});
  if (!result.ok) {
    throw new Error(
      `demo-config.yml is invalid: ${result.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    );
  }
  return result.config;
}

/**
 * countersign on its own listener plus a simulated Slack (the fake Web API from
 * src/fake-slack with the /sim page on the same port), wired to each other.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const config = options.config ?? loadDemoConfig();
  const clock = options.clock;
  const slack = await startFakeSlack({
    port: options.simPort,
    token: DEMO_BOT_TOKEN,
    validateBlocks: (blocks) => validateMessage(blocks),
    knownChannels: [...new Set(Object.values(config.roles).map((r) => r.channel))],
    channelNames: DEMO_CHANNEL_NAMES,
    users: DEMO_USERS,
    usergroups: Object.fromEntries(Object.entries(DEMO_USERGROUPS).map(([id, g]) => [id, g.members])),
    ...(clock ? { now: () => clock.now() } : {}),
    socketMode: options.socketMode === true,
  });
  let service: Service;
  try {
    service = await startService({
      config,
      slack: {
        botToken: DEMO_BOT_TOKEN,
        signingSecret: DEMO_SIGNING_SECRET,
        appToken: options.socketMode === true ? DEMO_APP_TOKEN : null,
        apiUrl: slack.url,
      },
      // Socket Mode learns its port from PORT only (Bolt's start() does not report it): pick one here.
      port: options.socketMode === true && options.port === 0 ? await freePort() : options.port,
      host: "127.0.0.1",
      database: options.dbPath,
      log: options.log,
      ...(clock ? { clock } : {}),
      sweepCron: options.sweepCron === undefined ? "*/5 * * * * *" : options.sweepCron,
      outbox: { pollMs: 100 },
      callbacks: { pollMs: 500 },
    });
  } catch (error) {
    await slack.close();
    throw error;
  }
  const simulator = createSimulator({
    fake: slack,
    config,
    appUrl: service.url,
    signingSecret: DEMO_SIGNING_SECRET,
    socketMode: options.socketMode === true,
    simBase: `http://127.0.0.1:${slack.port}`,
    personas: personas(config, (id) => DEMO_USERS[id]),
    samples: SAMPLES,
  });
  const removeRoute = slack.addRoute(simulator.route);
  // In Socket Mode the page's clicks travel over the WebSocket: wait until countersign holds it.
  if (options.socketMode === true) await slack.socket.waitForConnection(10_000);

  let stopped = false;
  return {
    service,
    slack,
    config,
    apiUrl: service.url,
    simUrl: `http://127.0.0.1:${slack.port}/sim`,
    async stop() {
      if (stopped) return;
      stopped = true;
      // countersign first: it may still be talking to the simulated Slack while it drains.
      await service.stop();
      removeRoute();
      simulator.close();
      await slack.close();
    },
  };
}

/** A port nothing listens on right now (for Socket Mode with PORT=0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}
