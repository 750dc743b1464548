/**
 * One measured number per line: value, the bar it is held to, the ratio to
 * that bar (or to the baseline measured in the same run) and PASS/MISS.
 * Metrics without a bar are printed as `info`.
 */
export interface Metric {
  bench: string;
  name: string;
  value: number;
  unit: string;
  /** Human-readable bar, e.g. "≤ 15 ms" or "≥ 0.80 × bare". */
  bar: string | null;
  /** value / bar limit, or countersign / baseline where the bar is a ratio. */
  ratio: number | null;
  pass: boolean | null;
  note?: string;
}

export const fmt = (value: number, unit = ""): string => {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 || Number.isInteger(value) ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return unit === "" ? text : `${text} ${unit}`;
};

export function info(bench: string, name: string, value: number, unit: string, note?: string): Metric {
  return { bench, name, value, unit, bar: null, ratio: null, pass: null, ...(note ? { note } : {}) };
}

/** Bar: value ≤ limit; the ratio is value / limit (≤ 1 passes). */
export function atMost(
  bench: string,
  name: string,
  value: number,
  unit: string,
  limit: number,
  note?: string,
): Metric {
  return {
    bench,
    name,
    value,
    unit,
    bar: `≤ ${fmt(limit, unit)}`,
    ratio: value / limit,
    pass: value <= limit,
    ...(note ? { note } : {}),
  };
}

/** Bar: value ≥ limit; the ratio is value / limit (≥ 1 passes). */
export function atLeast(
  bench: string,
  name: string,
  value: number,
  unit: string,
  limit: number,
  note?: string,
): Metric {
  return {
    bench,
    name,
    value,
    unit,
    bar: `≥ ${fmt(limit, unit)}`,
    ratio: value / limit,
    pass: value >= limit,
    ...(note ? { note } : {}),
  };
}

/** Bar on a ratio to a baseline measured in the same run: value / baseline ≥ min. */
export function ratioAtLeast(
  bench: string,
  name: string,
  value: number,
  unit: string,
  baseline: number,
  min: number,
  baselineName: string,
): Metric {
  const ratio = value / baseline;
  return {
    bench,
    name,
    value,
    unit,
    bar: `≥ ${min.toFixed(2)} × ${baselineName}`,
    ratio,
    pass: ratio >= min,
  };
}

/** Bar on a ratio to a baseline measured in the same run: value / baseline ≤ max. */
export function ratioAtMost(
  bench: string,
  name: string,
  value: number,
  unit: string,
  baseline: number,
  max: number,
  baselineName: string,
): Metric {
  const ratio = value / baseline;
  return {
    bench,
    name,
    value,
    unit,
    bar: `≤ ${max.toFixed(2)} × ${baselineName}`,
    ratio,
    pass: ratio <= max,
  };
}

/** A yes/no check (exactly-once delivery and the like). */
export function check(bench: string, name: string, ok: boolean, detail: string): Metric {
  return { bench, name, value: ok ? 1 : 0, unit: "", bar: "yes", ratio: null, pass: ok, note: detail };
}

const verdict = (m: Metric): string => (m.pass === null ? "info" : m.pass ? "PASS" : "MISS");

const valueText = (m: Metric): string => (m.bar === "yes" ? (m.pass ? "yes" : "no") : fmt(m.value, m.unit));

/** The line printed as soon as a metric is known. */
export function line(m: Metric): string {
  const parts = [
    `[${m.bench}]`.padEnd(11),
    m.name.padEnd(42),
    valueText(m).padStart(16),
    `  bar ${m.bar ?? "—"}`.padEnd(26),
    `  ratio ${m.ratio === null ? "—" : m.ratio.toFixed(2)}`.padEnd(14),
    `  ${verdict(m)}`,
  ];
  return `${parts.join("")}${m.note ? `  (${m.note})` : ""}`;
}

/** The results as a Markdown table, for docs/BENCHMARKS.md. */
export function markdownTable(metrics: readonly Metric[]): string {
  const rows = metrics.map(
    (m) =>
      `| ${m.bench} | ${m.name}${m.note ? ` — ${m.note}` : ""} | ${valueText(m)} | ${m.bar ?? "—"} | ${
        m.ratio === null ? "—" : m.ratio.toFixed(2)
      } | ${verdict(m)} |`,
  );
  return ["| bench | metric | value | bar | ratio | result |", "|---|---|---|---|---|---|", ...rows].join(
    "\n",
  );
}
