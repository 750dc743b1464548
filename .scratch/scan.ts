import Database from "better-sqlite3";
const db = new Database(process.argv[2]!, { readonly: true });
if (process.argv[3]) db.pragma(`mmap_size = ${process.argv[3]}`);
const cols = process.argv[4] ?? "id, request_id, at, event, actor, detail, prev_hash, hash";
let t = performance.now(); let n = 0;
for (const r of db.prepare(`SELECT ${cols} FROM audit_log ORDER BY id`).raw(true).iterate()) n++;
console.log(process.argv[3] ?? "no mmap", cols, performance.now() - t);
