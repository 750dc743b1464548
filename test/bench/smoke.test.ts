import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createContext } from "../../bench/lib/context.ts";
import { hasPostgres } from "../../bench/lib/pg.ts";
import type { Metric } from "../../bench/lib/report.ts";
import { BENCHES, PG_BENCHES } from "../../bench/run.ts";

/**
 * The benchmarks are scripts (`npm run bench`), not tests: this only runs a
 * tiny version of each so they keep working. No timing is asserted — only
 * that each one completes and reports numbers.
 */
function expectNumbers(metrics: Metric[]): void {
  expect(metrics.length).toBeGreaterThan(0);
  for (const m of metrics) {
    expect(Number.isFinite(m.value), `${m.bench} ${m.name}`).toBe(true);
    // Correctness checks (exactly once, every click recorded) hold at any speed.
    if (m.bar === "yes") expect(m.pass, `${m.bench} ${m.name}: ${m.note ?? ""}`).toBe(true);
  }
}

describe("npm run bench, tiny", () => {
  for (const [name, bench] of Object.entries(BENCHES)) {
    it(`${name} completes and reports numbers`, { timeout: 180_000 }, async () => {
      expectNumbers(await bench(createContext("tiny", { quiet: true })));
    });
  }
});

// pgstore is in both lists and already runs above.
const pgOnly = Object.entries(PG_BENCHES).filter(([name, bench]) => BENCHES[name] !== bench);

describe.skipIf(!hasPostgres())("npm run bench -- --db=postgres, tiny (needs PostgreSQL's binaries)", () => {
  it("has intake and click", () => {
    expect(pgOnly.map(([name]) => name)).toEqual(["intake", "click"]);
  });
  for (const [name, bench] of pgOnly) {
    it(`${name} on PostgreSQL, 1 and 3 replicas, completes, reports numbers and fans out once`, {
      timeout: 240_000,
    }, async () => {
      const metrics = await bench(createContext("tiny", { quiet: true }));
      expectNumbers(metrics);
      // Not skipped: a cluster was started, both replica counts were measured and checked.
      expect(metrics.map((m) => m.name)).not.toContain("skipped");
      expect(metrics.filter((m) => m.bar === "yes").length).toBeGreaterThanOrEqual(3);
    });
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!hasPostgres())(
  "README's try-it: bench/try-replicas.ts (needs PostgreSQL's binaries)",
  () => {
    it("two replicas, each SIGKILLed mid-burst: every acknowledged request and click is kept, posted once", {
      timeout: 240_000,
    }, async () => {
      const ports = `${await freePort()},${await freePort()}`;
      const run = spawnSync(process.execPath, ["bench/try-replicas.ts"], {
        cwd: fileURLToPath(new URL("../../", import.meta.url)),
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", TRY_REQUESTS: "40", TRY_PORTS: ports },
        timeout: 230_000,
      });
      const out = run.stdout;
      expect(out, run.stderr).toContain("replica a killed (SIGKILL)");
      expect(out).toContain("replica b killed (SIGKILL)");
      expect(out).not.toMatch(/^LOST:/m);
      const requests = /(\d+) acknowledged requests: (\d+) with exactly one channel message/.exec(out);
      const clicks = /(\d+) acknowledged clicks: (\d+) recorded/.exec(out);
      expect(requests, out).not.toBeNull();
      expect(clicks, out).not.toBeNull();
      expect(Number(requests?.[1])).toBeGreaterThan(0);
      expect(requests?.[2]).toBe(requests?.[1]);
      expect(Number(clicks?.[1])).toBeGreaterThan(0);
      expect(clicks?.[2]).toBe(clicks?.[1]);
      // A kill -9 rolls back what it was writing, and leaves no gap in the audit chain.
      expect(out).toMatch(/countersign audit verify: audit verify: ok/);
      expect(run.status, out).toBe(0);
    });
  },
);
