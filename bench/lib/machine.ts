import { readFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { sleep } from "./stats.ts";

export function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  return `${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${process.platform} ${process.arch}`;
}

function cpuTimes(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync("/proc/stat", "utf8")
      .split("\n")[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Share of all cores busy over `ms` (0..1), from /proc/stat; null where there is none. */
export async function cpuBusy(ms = 1000): Promise<number | null> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  if (a === null || b === null || b.total === a.total) return null;
  return (b.busy - a.busy) / (b.total - a.total);
}

/**
 * Benchmarks on a shared machine measure the neighbours too: waits (up to
 * `maxMs`) until other processes leave the cores at most `threshold` busy.
 */
export async function waitForIdle(
  threshold: number,
  maxMs: number,
  say: (text: string) => void,
): Promise<number | null> {
  const deadline = Date.now() + maxMs;
  let busy = await cpuBusy(2000);
  while (busy !== null && busy > threshold && Date.now() < deadline) {
    say(
      `machine ${(busy * 100).toFixed(0)}% busy with other work; waiting for ≤ ${(threshold * 100).toFixed(0)}%`,
    );
    await sleep(5000);
    busy = await cpuBusy(2000);
  }
  return busy;
}
