import { pino } from "pino";
import type { Clock } from "../../src/clock.ts";
import { type Demo, startDemo } from "../../src/demo/start.ts";
import { tempDir } from "../support/harness.ts";

export interface TestDemo {
  demo: Demo;
  /** Base of the simulated Slack, e.g. http://127.0.0.1:PORT (the page is at /sim). */
  simBase: string;
  api(method: string, path: string, body?: unknown, token?: string): Promise<Answer>;
  sim(path: string, body?: unknown): Promise<Answer>;
  stop(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
export type Answer = { status: number; json: any };

export const SUPPORT_TOKEN = "demo-support-bot-token";
export const DEPLOY_TOKEN = "demo-deploy-bot-token";

/** The demo in-process on free ports with a temp database and no cron (tests drive time themselves). */
export async function startTestDemo(opts: { clock?: Clock; socketMode?: boolean } = {}): Promise<TestDemo> {
  const tmp = tempDir();
  const demo = await startDemo({
    port: 0,
    simPort: 0,
    dbPath: `${tmp.dir}/demo.db`,
    log: pino({ level: "silent" }),
    sweepCron: null,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.socketMode ? { socketMode: true } : {}),
  });
  const simBase = demo.simUrl.replace(/\/sim$/, "");
  const call = async (url: string, method: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, json } as Answer;
  };
  return {
    demo,
    simBase,
    api: (method, path, body, token = SUPPORT_TOKEN) =>
      call(`${demo.apiUrl}${path}`, method, body, { authorization: `Bearer ${token}` }),
    sim: (path, body) => call(`${simBase}${path}`, body === undefined ? "GET" : "POST", body, {}),
    async stop() {
      await demo.stop();
      tmp.cleanup();
    },
  };
}

/** Polls until fn resolves truthy. */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
