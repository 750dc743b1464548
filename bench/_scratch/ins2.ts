import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/db/open.ts";
import { pendingRow, seedRows, range } from "../lib/fixtures.ts";
const dir = mkdtempSync(join(tmpdir(), "x-"));
const { sqlite } = openDatabase(join(dir, "a.db"));
const cols = Object.keys(pendingRow(0, 0));
const ins = sqlite.prepare(`INSERT INTO requests (${cols.join(",")}) VALUES (${cols.map((c) => "@" + c).join(",")})`);
const n = 20000; const t0 = performance.now(); let worst = 0;
for (let i = 0; i < n; i++) { const r = pendingRow(i, Date.now()); r.id = "req_" + Math.random().toString(36).slice(2); const a = performance.now(); ins.run(r); worst = Math.max(worst, performance.now() - a); }
const ms = performance.now() - t0;
console.log((ms * 1000 / n).toFixed(1), "µs/insert (autocommit) worst", worst.toFixed(1), "ms");
const t1 = performance.now(); const f = await import("node:fs"); const fd = f.openSync(join(dir, "z"), "w"); for (let i=0;i<20;i++){ f.writeSync(fd, "x".repeat(4096)); f.fsyncSync(fd);} console.log("fsync", ((performance.now()-t1)/20).toFixed(2), "ms");
