import { Agent, request as httpRequest } from "node:http";

export interface Timed {
  status: number;
  body: string;
  /** performance.now() when the whole response had arrived. */
  at: number;
  ms: number;
}

/** Keep-alive agents, one per role, so a long-poll and a click never share a socket. */
export const newAgent = (): Agent => new Agent({ keepAlive: true, maxSockets: 256 });

/** A plain HTTP request with the time its response completed. */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; agent?: Agent } = {},
): Promise<Timed> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? "GET",
        headers: {
          ...options.headers,
          ...(options.body === undefined
            ? {}
            : { "content-length": String(Buffer.byteLength(options.body)) }),
        },
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const at = performance.now();
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            at,
            ms: at - started,
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Runs `count` tasks with at most `concurrency` in flight. */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/**
 * Open-loop load: starts one request every 1000/rate ms whatever the answers
 * do (so queueing shows as latency), for `seconds`; returns the response
 * times of the 2xx answers and how many were not 2xx.
 */
export async function paced(
  rate: number,
  seconds: number,
  make: () => { url: string; method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ latencies: number[]; failed: number }> {
  const agent = newAgent();
  const latencies: number[] = [];
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  const total = Math.round(rate * seconds);
  try {
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const { url, ...options } = make();
      inFlight.push(
        send(url, { ...options, agent }).then(
          (res) => {
            if (res.status >= 200 && res.status < 300) latencies.push(res.ms);
            else failed += 1;
          },
          () => {
            failed += 1;
          },
        ),
      );
    }
    await Promise.all(inFlight);
  } finally {
    agent.destroy();
  }
  return { latencies, failed };
}
