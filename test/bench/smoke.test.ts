import { describe, expect, it } from "vitest";
import { createContext } from "../../bench/lib/context.ts";
import { BENCHES } from "../../bench/run.ts";

/**
 * The benchmarks are scripts (`npm run bench`), not tests: this only runs a
 * tiny version of each so they keep working. No timing is asserted — only
 * that each one completes and reports numbers.
 */
describe("npm run bench, tiny", () => {
  for (const [name, bench] of Object.entries(BENCHES)) {
    it(`${name} completes and reports numbers`, { timeout: 180_000 }, async () => {
      const ctx = createContext("tiny", { quiet: true });
      const metrics = await bench(ctx);
      expect(metrics.length).toBeGreaterThan(0);
      for (const m of metrics) {
        expect(Number.isFinite(m.value), `${m.bench} ${m.name}`).toBe(true);
        // Correctness checks (exactly once, every click recorded) hold at any speed.
        if (m.bar === "yes") expect(m.pass, `${m.bench} ${m.name}: ${m.note ?? ""}`).toBe(true);
      }
    });
  }
});
