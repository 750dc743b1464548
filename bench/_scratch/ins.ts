import Database from "better-sqlite3";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
for (const where of [tmpdir(), "/dev/shm"]) {
  const dir = mkdtempSync(join(where, "x-"));
  const db = new Database(join(dir, "a.db"));
  db.pragma("journal_mode = WAL"); db.pragma("synchronous = NORMAL");
  db.exec("create table t (id text primary key, a text, b integer)");
  const ins = db.prepare("insert into t values (?, ?, ?)");
  const n = 5000; const t0 = performance.now();
  for (let i = 0; i < n; i++) ins.run("id" + Math.random(), "x".repeat(500), i);
  const ms = performance.now() - t0;
  console.log(where, (ms * 1000 / n).toFixed(1), "µs/insert (autocommit)");
}
