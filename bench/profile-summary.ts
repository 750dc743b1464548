/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile`, or
 * `node --cpu-prof --import tsx …`): the functions with the most self time,
 * and the most inclusive time of functions under src/.
 *
 *   node bench/profile-summary.ts .bench/profiles/intake-countersign/CPU….cpuprofile [top=25] [--all]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [path, topArg] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
if (!path) throw new Error("usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]");
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Time per node from the sample deltas (more exact than hitCount × interval).
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const totalUs = profile.endTime - profile.startTime;

const where = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "~/");
  const short = url.startsWith("~/") ? url : url.replace(/^.*\/(src|bench)\//, "$1/");
  return `${n.callFrame.functionName || "(anonymous)"} ${short}${url ? `:${n.callFrame.lineNumber + 1}` : ""}`;
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  self.set(where(node), (self.get(where(node)) ?? 0) + us);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const key = where(byId.get(cur)!);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}

const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
const print = (title: string, rows: [string, number][]) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of rows)
    process.stdout.write(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
};
process.stdout.write(`${path}: ${(totalUs / 1e6).toFixed(1)} s profiled\n`);
print("self time", [...self].sort((a, b) => b[1] - a[1]).slice(0, top));
const all = process.argv.includes("--all");
print(
  all
    ? "inclusive time, all functions"
    : "inclusive time, src/ and bench/ functions (--all for every function)",
  [...inclusive]
    .filter(([k]) => all || / (src|bench)\//.test(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top),
);
