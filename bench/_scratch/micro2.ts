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
import { REFUND, SUPPORT_CONFIG, pendingRow } from "../lib/fixtures.ts";

const pragmas = process.argv.slice(2);
const open = () => { const d = openDatabase(join(mkdtempSync(join(tmpdir(), "m-")), "a.db")); for (const p of pragmas) d.sqlite.pragma(p); return d; };
const parsed = parseConfig(SUPPORT_CONFIG, {}); if (!parsed.ok) throw 0;
const config = parsed.config; const agent = config.agents[0]!;
const text = JSON.stringify(REFUND);
function measure(name: string, fn: (i: number) => void, batch = 2000, rounds = 6) {
  let best = Infinity; let i = 0; const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  for (let r = 0; r < rounds; r++) { const t = cpu(); for (let k = 0; k < batch; k++) fn(i++); best = Math.min(best, (cpu() - t) / batch); }
  console.log(`${name.padEnd(40)} ${(best * 1000).toFixed(0)} µs/op (best of ${rounds} × ${batch})`);
}
{ // bare
  const d = open();
  const cols = Object.keys(pendingRow(0, 0));
  const ins = d.sqlite.prepare(`INSERT INTO requests (${cols.join(",")}) VALUES (${cols.map((c) => "@" + c).join(",")})`);
  const row = pendingRow(0, Date.now());
  measure("bare: one insert (autocommit)", (i) => ins.run({ ...row, id: `req_${i}_${Math.random()}` }));
}
{ // countersign
  const d = open(); const store = createStore(d);
  const deps = { store, config, clock: { now: () => Date.now() }, events: new RequestEvents(), metrics: createMetrics(store), log: pino({ level: "silent" }) };
  measure("createRequest (+ parse, JSON.stringify)", () => { const body = createRequestBodySchema.parse(JSON.parse(text)); JSON.stringify(createRequest(deps, agent, body, null)); });
  const body = createRequestBodySchema.parse(JSON.parse(text));
  measure("createRequest only", () => createRequest(deps, agent, body, null));
  measure("zod parse body", () => createRequestBodySchema.parse(JSON.parse(text)));
  const id = store.dueSlack(Date.now(), 1)[0]!.requestId;
  measure("store.getRequest", () => store.getRequest(id), 20000);
  measure("store.dueSlack(200) (backlog)", () => store.dueSlack(Date.now(), 200), 200);
  const bare = d.sqlite.prepare("SELECT * FROM requests WHERE id = ?");
  measure("raw better-sqlite3 get by id", () => bare.get(id), 20000);
  measure("empty tx", () => store.tx(() => 0), 5000);
}
