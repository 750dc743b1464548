import autocannon, { type Options } from "autocannon";

export interface LoadResult {
  /** 2xx responses per second over the measured part of the run. */
  rps: number;
  ok: number;
  /** Non-2xx responses, connection errors and timeouts, over the whole run. */
  failed: number;
  statuses: Record<string, number>;
  /** Length of the measured part, in seconds. */
  durationS: number;
  /** Response times of the measured 2xx responses in ms, unrounded (autocannon's histogram rounds to 1 ms). */
  latencies: number[];
}

/** What to leave out at the start: the first seconds, or the first responses. */
export type Warmup = { seconds: number } | { responses: number };

/**
 * Runs autocannon (programmatic API, in this process) once, warm-up included,
 * and keeps the response times of what came after the warm-up. One run, and
 * the warm-up lasts until every connection has had an answer, so the measured
 * part uses connections that are already open: when 50–100 connections open
 * at once against a saturated event loop, some wait seconds to be accepted
 * (the bare baseline shows the same), which measures the accept queue rather
 * than the server.
 */
export async function load(options: Options, warmup: Warmup): Promise<LoadResult> {
  const latencies: number[] = [];
  let started = 0;
  let measuredFrom: number | null = null;
  let last = 0;
  let responses = 0;
  const totalOptions =
    "seconds" in warmup && options.duration !== undefined
      ? { ...options, duration: options.duration + warmup.seconds }
      : "responses" in warmup && options.amount !== undefined
        ? { ...options, amount: options.amount + warmup.responses }
        : options;
  const instance = autocannon({ timeout: 30, ...totalOptions });
  instance.on("start", () => {
    started = performance.now();
  });
  const answered = new Set<unknown>();
  const connections = options.connections ?? 10;
  // Kept in case the run ends before it is warm (only in a tiny run): then everything counts.
  const all: number[] = [];
  instance.on("response", (client: unknown, status: number, _bytes: number, ms: number) => {
    const now = performance.now();
    responses += 1;
    if (status >= 200 && status < 300) all.push(ms);
    if (measuredFrom === null) {
      answered.add(client);
      // Warm once the warm-up is over and every connection has had its first answer.
      const over =
        "seconds" in warmup ? now - started >= warmup.seconds * 1000 : responses > warmup.responses;
      if (!over || answered.size < connections) return;
    }
    measuredFrom ??= now;
    last = now;
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]));
  if (measuredFrom === null) {
    measuredFrom = started;
    last = performance.now();
    latencies.push(...all);
  }
  const durationS = (last - measuredFrom) / 1000;
  return {
    rps: durationS > 0 ? latencies.length / durationS : Number.NaN,
    ok: latencies.length,
    failed: result.non2xx + result.errors + result.timeouts,
    statuses,
    durationS,
    latencies,
  };
}
