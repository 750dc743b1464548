import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { line, type Metric } from "./report.ts";

/** tiny: the CI smoke test (seconds); quick: `--quick`; full: `npm run bench`. */
export type Size = "tiny" | "quick" | "full";

export interface BenchContext {
  size: Size;
  /** Where child processes write their CPU profiles, when profiling. */
  profileDir: string | null;
  /** Progress output (stderr by default). */
  say(text: string): void;
  /** Records a metric and prints its line. */
  emit(metric: Metric): void;
  metrics: Metric[];
}

export function createContext(
  size: Size,
  options: { profileDir?: string | null; quiet?: boolean } = {},
): BenchContext {
  const metrics: Metric[] = [];
  return {
    size,
    profileDir: options.profileDir ?? null,
    say: (text) => {
      if (!options.quiet) process.stderr.write(`  … ${text}\n`);
    },
    emit: (metric) => {
      metrics.push(metric);
      if (!options.quiet) process.stdout.write(`${line(metric)}\n`);
    },
    metrics,
  };
}

/** A temp directory (database files, child logs) removed by `cleanup` unless BENCH_KEEP is set. */
export function workDir(name: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `countersign-bench-${name}-`));
  return {
    dir,
    cleanup: () => {
      if (process.env.BENCH_KEEP) process.stderr.write(`  … kept ${dir}\n`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const pick = <T>(size: Size, values: Record<Size, T>): T => values[size];
