import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildGraph, cycles, importsOf, type ModuleGraph, SRC } from "./graph.ts";

/**
 * The layering rule of the README's Layout section, checked on the real import
 * graph of src/ (type-only imports count too): a module imports its own layer
 * or lower ones, never a higher one; no cycles; the two storage adapters never
 * import each other, and only storage/open.ts (which the service and the CLI
 * both open storage through) imports an adapter at all.
 */
const LAYERS: { name: string; modules: string[] }[] = [
  { name: "domain", modules: ["domain/"] },
  {
    name: "foundations",
    modules: ["clock.ts", "log.ts", "redact.ts", "metrics.ts", "audit/", "policy/", "config/", "fake-slack/"],
  },
  { name: "storage", modules: ["storage/"] },
  { name: "tokens", modules: ["tokens/"] },
  { name: "use cases", modules: ["approvals/"] },
  { name: "transports", modules: ["slack/", "api/", "callbacks/", "work-loop.ts"] },
  { name: "composition", modules: ["app/", "service.ts", "main.ts", "cli/", "demo/"] },
];

/** The storage adapters (dialect code) and who may import them besides themselves. */
const ADAPTERS = ["storage/sqlite/", "storage/pg/"];
const ADAPTER_IMPORTERS = ["storage/open.ts"];

function layerOf(module: string): number {
  const i = LAYERS.findIndex((l) =>
    l.modules.some((m) => (m.endsWith("/") ? module.startsWith(m) : module === m)),
  );
  return i;
}

function upwardArrows(graph: ModuleGraph): string[] {
  const out: string[] = [];
  for (const [from, tos] of graph.edges) {
    for (const to of tos) {
      if (layerOf(to) > layerOf(from)) {
        out.push(`${from} (${LAYERS[layerOf(from)]?.name}) → ${to} (${LAYERS[layerOf(to)]?.name})`);
      }
    }
  }
  return out;
}

function adapterOf(module: string): string | undefined {
  return ADAPTERS.find((a) => module.startsWith(a));
}

function adapterViolations(graph: ModuleGraph): string[] {
  const out: string[] = [];
  for (const [from, tos] of graph.edges) {
    for (const to of tos) {
      const target = adapterOf(to);
      if (target === undefined || adapterOf(from) === target) continue;
      if (adapterOf(from) !== undefined) out.push(`${from} → ${to}: one adapter imports the other`);
      else if (!ADAPTER_IMPORTERS.some((m) => (m.endsWith("/") ? from.startsWith(m) : from === m))) {
        out.push(`${from} → ${to}: only storage/open.ts imports an adapter`);
      }
    }
  }
  return out;
}

describe("import graph of src/", () => {
  const graph = buildGraph();

  it("places every module in a layer", () => {
    expect([...graph.edges.keys()].filter((m) => layerOf(m) < 0)).toEqual([]);
  });

  it("has no arrow from a lower layer to a higher one", () => {
    expect(upwardArrows(graph)).toEqual([]);
  });

  it("has no cycle", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("domain/ imports nothing of ours outside domain/", () => {
    const out = [...graph.edges].flatMap(([from, tos]) =>
      from.startsWith("domain/")
        ? tos.filter((t) => !t.startsWith("domain/")).map((t) => `${from} → ${t}`)
        : [],
    );
    expect(out).toEqual([]);
  });

  it("keeps the storage adapters apart and behind storage/open.ts", () => {
    expect(adapterViolations(graph)).toEqual([]);
  });

  it("only storage/ imports a database driver or drizzle", () => {
    const DRIVERS = /^(better-sqlite3|pg|pg-[a-z-]+|drizzle-orm)(\/|$)/;
    const out = [...graph.edges.keys()]
      .filter((m) => !m.startsWith("storage/"))
      .flatMap((m) =>
        importsOf(readFileSync(join(SRC, m), "utf8"))
          .filter((s) => DRIVERS.test(s))
          .map((s) => `${m} → ${s}`),
      );
    expect(out).toEqual([]);
  });

  it("writes outside storage/ go through Writes.run (the one path that retries the same way on both databases)", () => {
    const out = [...graph.edges.keys()]
      .filter((m) => !m.startsWith("storage/"))
      .filter((m) => /\bstore\.tx\(/.test(readFileSync(join(SRC, m), "utf8")));
    expect(out).toEqual([]);
  });
});

describe("the checks themselves", () => {
  const graphOf = (edges: Record<string, string[]>): ModuleGraph => ({
    edges: new Map(Object.entries(edges)),
  });

  it("finds imports in every form, not in comments", () => {
    const text = [
      'import { a } from "./a.ts";',
      'import type { B } from "../b.ts";',
      'export { c } from "./c.ts";',
      'export * from "./d.ts";',
      'import "./e.ts";',
      'const f = await import("./f.ts");',
      "import {\n  g,\n  h,\n} from './gh.ts';",
      '// import { x } from "./commented.ts";',
      '/** import { y } from "./doc.ts"; */',
    ].join("\n");
    expect(importsOf(text)).toEqual(["./a.ts", "../b.ts", "./c.ts", "./d.ts", "./e.ts", "./f.ts", "./gh.ts"]);
  });

  it("reports an upward arrow", () => {
    expect(upwardArrows(graphOf({ "domain/x.ts": ["approvals/y.ts"], "approvals/y.ts": [] }))).toHaveLength(
      1,
    );
    expect(upwardArrows(graphOf({ "approvals/y.ts": ["domain/x.ts"], "domain/x.ts": [] }))).toEqual([]);
  });

  it("reports a cycle, type-only or not", () => {
    expect(cycles(graphOf({ "a.ts": ["b.ts"], "b.ts": ["c.ts"], "c.ts": ["a.ts"] }))).toEqual([
      ["a.ts", "b.ts", "c.ts"],
    ]);
    expect(cycles(graphOf({ "a.ts": ["b.ts"], "b.ts": [] }))).toEqual([]);
  });

  it("reports one adapter importing the other, and a use case importing an adapter", () => {
    expect(
      adapterViolations(
        graphOf({
          "storage/pg/store.ts": ["storage/sqlite/store.ts", "storage/pg/session.ts", "storage/ports.ts"],
          "approvals/x.ts": ["storage/sqlite/store.ts"],
          "storage/open.ts": ["storage/sqlite/index.ts"],
          "app/wiring.ts": ["storage/pg/index.ts"],
        }),
      ),
    ).toEqual([
      "storage/pg/store.ts → storage/sqlite/store.ts: one adapter imports the other",
      "approvals/x.ts → storage/sqlite/store.ts: only storage/open.ts imports an adapter",
      "app/wiring.ts → storage/pg/index.ts: only storage/open.ts imports an adapter",
    ]);
  });
});
