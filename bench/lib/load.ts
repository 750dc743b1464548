import autocannon, { type Options } from "autocannon";

export interface LoadResult {
  /** 2xx responses per second over the run. */
  rps: number;
  ok: number;
  /** Non-2xx responses and connection errors/timeouts. */
  failed: number;
  statuses: Record<string, number>;
  durationS: number;
  /** Response times of the 2xx responses in ms, unrounded (autocannon's own histogram rounds to 1 ms). */
  latencies: number[];
}

/** Runs autocannon (programmatic API, in this process) and keeps every 2xx response time. */
export async function load(options: Options): Promise<LoadResult> {
  const latencies: number[] = [];
  const instance = autocannon({ timeout: 30, ...options });
  instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]));
  return {
    rps: result["2xx"] / result.duration,
    ok: result["2xx"],
    failed: result.non2xx + result.errors + result.timeouts,
    statuses,
    durationS: result.duration,
    latencies,
  };
}
