import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { createRequest } from "../../src/approvals/create-request.ts";
import { RequestEvents } from "../../src/approvals/events.ts";
import { createRequestBodySchema } from "../../src/approvals/request-body.ts";
import { parseConfig } from "../../src/config/file.ts";
import { openDatabase } from "../../src/db/open.ts";
import { createStore } from "../../src/db/store.ts";
import { createMetrics } from "../../src/metrics.ts";
import { REFUND, SUPPORT_CONFIG } from "../lib/fixtures.ts";

const pragmas = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), "micro-"));
const database = openDatabase(join(dir, "a.db"));
for (const p of pragmas) database.sqlite.pragma(p);
const store = createStore(database);
const timing: Record<string, number> = {};
for (const [k, v] of Object.entries(store)) {
  if (typeof v !== "function") continue;
  (store as Record<string, unknown>)[k] = (...args: unknown[]) => { const a = performance.now(); try { return (v as Function)(...args); } finally { timing[k] = (timing[k] ?? 0) + performance.now() - a; } };
}
const parsed = parseConfig(SUPPORT_CONFIG, {});
if (!parsed.ok) throw new Error("cfg");
const config = parsed.config;
const deps = { store, config, clock: { now: () => Date.now() }, events: new RequestEvents(), metrics: createMetrics(store), log: pino({ level: "silent" }) };
const agent = config.agents[0]!;
const text = JSON.stringify(REFUND);
const N = 20000;
let tParse = 0, tCreate = 0;
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const a = performance.now();
  const body = createRequestBodySchema.parse(JSON.parse(text));
  const b = performance.now();
  const r = createRequest(deps, agent, body, null);
  const c = performance.now();
  JSON.stringify(r);
  tParse += b - a; tCreate += c - b;
}
const total = performance.now() - t0;
for (const [k, v] of Object.entries(timing)) console.log(`  ${k}: ${(v * 1000 / N).toFixed(0)} µs`);
console.log(pragmas.join(" ") || "(defaults)", `per request: total ${(total * 1000 / N).toFixed(0)} µs, parse ${(tParse * 1000 / N).toFixed(0)} µs, createRequest ${(tCreate * 1000 / N).toFixed(0)} µs`);
