/**
 * The fake Slack Web API (src/fake-slack/slack-api.ts) in a process of its own, so
 * its work is not charged to the server under test. Counts calls by method and
 * status itself and drops the per-call records the fake keeps, which would
 * otherwise grow without bound under load.
 */
import { startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { childOptions, ready, serveRpc } from "../lib/child-side.ts";

export interface FakeSlackChildOptions {
  rateLimit?: { perChannelPerSecond: number; burst: number };
}

export interface FakeSlackStats {
  calls: Record<string, number>;
  rateLimited: number;
  /** Top-level messages per channel. */
  posts: Record<string, number>;
  /** Distinct request ids (from message metadata) per channel. */
  distinctRequests: Record<string, number>;
  /** Request ids posted more than once, over all channels. */
  duplicates: number;
  updates: number;
  firstPostAt: number | null;
  lastPostAt: number | null;
}

const options = childOptions<FakeSlackChildOptions>();
const fake = await startFakeSlack(options.rateLimit ? { rateLimit: options.rateLimit } : {});
const calls: Record<string, number> = {};
let firstPostAt: number | null = null;
let lastPostAt: number | null = null;
fake.onChange((change) => {
  if (change.type !== "api_call") return;
  const key = `${change.method} ${change.status}`;
  calls[key] = (calls[key] ?? 0) + 1;
  if (change.method === "chat.postMessage" && change.ok) {
    const now = Date.now();
    firstPostAt ??= now;
    lastPostAt = now;
  }
  fake.calls.length = 0;
});

function stats(): FakeSlackStats {
  const posts: Record<string, number> = {};
  const distinctRequests: Record<string, number> = {};
  const seen = new Set<string>();
  let duplicates = 0;
  let updates = 0;
  for (const channel of fake.channels()) {
    const messages = fake.messages(channel.id);
    const ids = new Set<string>();
    let top = 0;
    for (const m of messages) {
      updates += m.updates;
      if (m.thread_ts !== undefined) continue;
      top += 1;
      const id = (m.metadata as { event_payload?: { request_id?: string } } | undefined)?.event_payload
        ?.request_id;
      if (id === undefined) continue;
      ids.add(id);
      if (seen.has(id)) duplicates += 1;
      seen.add(id);
    }
    posts[channel.id] = top;
    distinctRequests[channel.id] = ids.size;
  }
  return {
    calls,
    rateLimited: fake.stats.rateLimited,
    posts,
    distinctRequests,
    duplicates,
    updates,
    firstPostAt,
    lastPostAt,
  };
}

serveRpc(
  {
    stats,
    /** Posts `count` bot messages to `channel` (for seeded requests) and returns their ts. */
    prepost: ({ channel, count }: { channel: string; count: number }) =>
      Array.from(
        { length: count },
        () => fake.workspace.post({ channel, text: "seeded", blocks: undefined }).ts,
      ),
  },
  () => fake.close(),
);
ready({ url: fake.url, port: fake.port });
