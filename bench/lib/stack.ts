import type { CountersignChildOptions } from "../servers/countersign.ts";
import type { FakeSlackChildOptions, FakeSlackStats } from "../servers/fake-slack.ts";
import { type Child, startChild } from "./child.ts";
import type { BenchContext } from "./context.ts";

export interface Stack {
  slack: Child<{ url: string; port: number }>;
  service: Child<{ port: number; url: string }>;
  url: string;
  slackStats(): Promise<FakeSlackStats>;
  stop(): Promise<void>;
}

/** The fake Slack Web API in its own process. */
export async function startFakeSlackChild(
  name: string,
  logDir: string,
  options: FakeSlackChildOptions = {},
): Promise<Child<{ url: string; port: number }>> {
  return startChild("fake-slack.ts", options, { name: `${name}-fake-slack`, logDir });
}

/** countersign in its own process against a running fake Slack child. */
export async function startCountersign(
  ctx: BenchContext,
  name: string,
  logDir: string,
  slack: Child<{ url: string; port: number }>,
  options: Omit<CountersignChildOptions, "slackApiUrl">,
): Promise<Stack> {
  const service = await startChild<{ port: number; url: string }>(
    // An entry of your own (e.g. a patched tree) can be compared against the same load.
    process.env.BENCH_COUNTERSIGN_ENTRY ?? "countersign.ts",
    { ...options, slackApiUrl: slack.ready.url } satisfies CountersignChildOptions,
    { name: `${name}-countersign`, logDir, profileDir: ctx.profileDir },
  );
  return {
    slack,
    service,
    url: service.ready.url,
    slackStats: () => slack.call<FakeSlackStats>("stats"),
    async stop() {
      await service.stop();
      await slack.stop();
    },
  };
}
