import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/db/open.ts";
import { createStore } from "../../src/db/store.ts";
import { toResource } from "../../src/db/rows.ts";
import { pendingRow } from "../lib/fixtures.ts";
const pragmas = process.argv.slice(2);
function measure(name: string, fn: (i: number) => void, batch = 2000, rounds = 5) {
  let best = Infinity; let i = 0; const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  for (let r = 0; r < rounds; r++) { const t = cpu(); for (let k = 0; k < batch; k++) fn(i++); best = Math.min(best, (cpu() - t) / batch); }
  console.log(`${name.padEnd(52)} ${(best * 1000).toFixed(0)} µs/op`);
}
const camel = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(/_(.)/g, (_, c) => c.toUpperCase()), v]));
const template = camel(pendingRow(0, Date.now())) as never as Parameters<ReturnType<typeof createStore>["insertRequest"]>[0];
for (const steps of [1, 2, 3, 4, 5]) {
  const d = openDatabase(join(mkdtempSync(join(tmpdir(), "m-")), "a.db")); for (const p of pragmas) d.sqlite.pragma(p);
  const s = createStore(d);
  const now = Date.now();
  measure(`tx: ${["insertRequest", "+audit", "+audit", "+enqueueSlack", "+getRequest+toResource"].slice(0, steps).join(" ")}`, (i) => {
    const id = `req_${i}_${Math.random().toString(36).slice(2)}`;
    s.tx(() => {
      s.insertRequest({ ...template, id });
      if (steps >= 2) s.audit(id, now, "created", "agent:x", { action: "refund.issue", args_hash: "sha256:abc" });
      if (steps >= 3) s.audit(id, now, "routed", null, { policy: "p", role: "r" });
      if (steps >= 4) s.enqueueSlack(id, "post", { kind: "post" }, now);
    });
    if (steps >= 5) toResource(s.getRequest(id)!, []);
  });
}
