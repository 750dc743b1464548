import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { useCleanups } from "../support/cleanups.ts";

/**
 * The monitoring files a deployment starts from: deploy/prometheus/alerts.yml
 * (checked and unit-tested by promtool, Debian's `prometheus` package) and the
 * Grafana dashboard, whose every query must name metrics and labels that the
 * real /metrics serves.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PROMETHEUS = join(ROOT, "deploy/prometheus");
const DASHBOARD = join(ROOT, "deploy/grafana/countersign-dashboard.json");

/**
 * Named by the rules for a feature that does not exist yet: the kill switch
 * (CONTRACT §12) will export it. When it does, this test fails until the name
 * is taken off this list, and from then on it is checked like every other.
 */
const FUTURE_METRICS = new Set(["countersign_halt_active"]);

function promtool(...args: string[]) {
  const run = spawnSync("promtool", args, { cwd: PROMETHEUS, encoding: "utf8" });
  if (run.error) {
    throw new Error(`cannot run promtool (apt-get install prometheus): ${run.error.message}`);
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Every PromQL expression: the alert rules' and the dashboard's panel targets. */
function expressions(): { where: string; expr: string }[] {
  const rules = parse(readFileSync(join(PROMETHEUS, "alerts.yml"), "utf8")) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    panels: { title: string; targets?: { expr: string }[] }[];
    templating: { list: { name: string; definition?: string }[] };
  };
  return [
    ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
    ...dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
    ),
    ...dashboard.templating.list.map((v) => ({ where: `variable $${v.name}`, expr: v.definition ?? "" })),
  ];
}

const METRIC = /\b(countersign_[a-z0-9_]+)\b/g;
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** Label names used in `metric{label="…"}` selectors and `by (…)` / `without (…)` clauses. */
function labelsUsed(expr: string): { metric: string; labels: string[] }[] {
  const used: { metric: string; labels: string[] }[] = [];
  for (const m of expr.matchAll(/\b(countersign_[a-z0-9_]+)\s*\{([^}]*)\}/g)) {
    const labels = [...m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!);
    used.push({ metric: m[1]!, labels });
  }
  // A grouping applies to the metrics of the expression it wraps: each must carry the label.
  const metrics = [...new Set([...expr.matchAll(METRIC)].map((m) => m[1]!))];
  for (const g of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    const labels = g[1]!
      .split(",")
      .map((l) => l.trim())
      .filter(Boolean);
    for (const metric of metrics) used.push({ metric, labels });
  }
  return used;
}

describe("deploy/prometheus/alerts.yml", () => {
  it("promtool check rules: valid", () => {
    const run = promtool("check", "rules", "alerts.yml");
    expect(run.output).toContain("SUCCESS");
    expect(run.status, run.output).toBe(0);
  });

  it("promtool test rules alerts.test.yml: every alert fires on its case and stays silent on its near miss", () => {
    const run = promtool("test", "rules", "alerts.test.yml");
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain("SUCCESS");
  });

  it("has a unit test for every alert it defines", () => {
    const rules = parse(readFileSync(join(PROMETHEUS, "alerts.yml"), "utf8")) as {
      groups: { rules: { alert: string }[] }[];
    };
    const tests = readFileSync(join(PROMETHEUS, "alerts.test.yml"), "utf8");
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts.length).toBeGreaterThanOrEqual(5);
    for (const alert of alerts) expect(tests, alert).toMatch(new RegExp(`alertname: ${alert}\\n`));
  });
});

describe("every metric the alerts and the dashboard use exists on the real /metrics", () => {
  const cleanups = useCleanups();

  it("scraped from a running service: names and label names match; future names are not exported yet", async () => {
    const h = await cleanups.harness();
    const res = await fetch(`${h.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    // Names as exposed: a `# TYPE` line for every metric, even one with no sample yet.
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!));
    const histograms = new Set([...text.matchAll(/^# TYPE (\S+) histogram$/gm)].map((m) => m[1]!));
    // Label names from the registry itself (a counter with no sample yet shows none in the text).
    const labelNames = new Map<string, Set<string>>();
    for (const metric of h.service.deps.metrics.registry.getMetricsAsArray()) {
      const names = (metric as unknown as { labelNames?: string[] }).labelNames ?? [];
      labelNames.set(metric.name, new Set([...names, "instance", "job"]));
    }

    const exprs = expressions();
    expect(exprs.length).toBeGreaterThan(15);
    const problems: string[] = [];
    const base = (name: string) => {
      const stem = name.replace(HISTOGRAM_SUFFIX, "");
      return histograms.has(stem) ? stem : name;
    };
    for (const { where, expr } of exprs) {
      const names = [...expr.matchAll(METRIC)].map((m) => m[1]!);
      if (names.length === 0) problems.push(`${where}: names no countersign metric`);
      for (const name of names) {
        if (FUTURE_METRICS.has(name)) continue;
        if (!exposed.has(base(name))) problems.push(`${where}: ${name} is not on /metrics`);
      }
      for (const { metric, labels } of labelsUsed(expr)) {
        if (FUTURE_METRICS.has(metric)) continue;
        const known = labelNames.get(base(metric));
        if (known === undefined) continue; // reported above
        const isBucket = metric.endsWith("_bucket") && histograms.has(base(metric));
        for (const label of labels) {
          if (!known.has(label) && !(isBucket && label === "le"))
            problems.push(`${where}: ${metric} has no label "${label}"`);
        }
      }
    }
    expect(problems).toEqual([]);
    for (const name of FUTURE_METRICS) {
      expect(exposed.has(name), `${name} is exported now: take it off FUTURE_METRICS`).toBe(false);
    }
  });
});
