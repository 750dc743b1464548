import { chainHash, GENESIS_HASH } from "../src/audit/chain.ts";
import { openDatabase } from "../src/db/open.ts";
const { sqlite } = openDatabase(process.argv[2]!);
const insert = sqlite.prepare("INSERT INTO audit_log (request_id, at, event, actor, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)");
let prev = GENESIS_HASH;
sqlite.transaction(() => { for (let i = 0; i < Number(process.argv[3] ?? 200000); i++) { const c = { requestId: "req_0123456789abcdef0123456789abcdef", at: 1e12 + i, event: "created", actor: "agent:x", detail: '{"action":"refund.issue","args_hash":"sha256:abababababababababababababababababababababababababababababababab","policy":"medium-refunds"}' }; const h = chainHash(prev, c); insert.run(c.requestId, c.at, c.event, c.actor, c.detail, prev, h); prev = h; } })();
