/**
 * The baseline for intake: a bare node:http server that reads the body, parses
 * it and does one prepared better-sqlite3 insert of the same row into the same
 * schema with the same pragmas — and nothing else. With `writes: "same"` it
 * also writes what countersign writes per request (two audit rows and the
 * outbox row, in one transaction with the insert): the floor for that work.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import Database from "better-sqlite3";
import { ROOT } from "../lib/child.ts";
import { childOptions, ready, serveRpc } from "../lib/child-side.ts";

const { dbPath, writes } = childOptions<{ dbPath: string; writes: "one" | "same" }>();

const sqlite = new Database(dbPath);
sqlite.pragma("journal_mode = WAL");
sqlite.pragma("synchronous = NORMAL");
sqlite.pragma("busy_timeout = 5000");
sqlite.pragma("foreign_keys = ON");
// The same tables and indexes as countersign's migrations, so an insert maintains the same indexes.
const migrations = join(ROOT, "migrations");
for (const file of readdirSync(migrations)
  .filter((f) => f.endsWith(".sql"))
  .sort()) {
  for (const statement of readFileSync(join(migrations, file), "utf8").split("--> statement-breakpoint")) {
    if (statement.trim() !== "") sqlite.exec(statement);
  }
}

const insert = sqlite.prepare(`INSERT INTO requests (
  id, agent, status, action, summary, target, params, reason, risk, evidence, run_id, args_hash,
  policy, role, approvals_required, ttl_ms, created_at, expires_at, remind_at, escalate_at, slack_channel, body_hash
) VALUES (
  @id, 'bench-bot', 'pending', @action, @summary, @target, @params, @reason, @risk, @evidence, @runId, 'sha256:-',
  'medium-refunds', 'support-lead', 1, 1800000, @now, @expiresAt, @remindAt, @escalateAt, 'C0SUPPORT', 'sha256:-'
)`);

const audit = sqlite.prepare(
  "INSERT INTO audit_log (request_id, at, event, actor, detail) VALUES (?, ?, ?, ?, ?)",
);
const enqueue = sqlite.prepare(
  "INSERT INTO slack_outbox (request_id, kind, payload, created_at, attempts, next_attempt_at) VALUES (?, 'post', '{\"kind\":\"post\"}', ?, 0, ?)",
);
type Row = Record<string, unknown> & { id: string; now: number; action: unknown };
const insertSame = sqlite.transaction((row: Row) => {
  insert.run(row);
  audit.run(row.id, row.now, "created", "agent:bench-bot", JSON.stringify({ action: row.action }));
  audit.run(row.id, row.now, "routed", null, '{"policy":"medium-refunds","role":"support-lead"}');
  enqueue.run(row.id, row.now, row.now);
});
const write = writes === "same" ? (row: Row) => insertSame(row) : (row: Row) => void insert.run(row);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    const now = Date.now();
    const id = `req_${randomBytes(12).toString("base64url")}`;
    write({
      id,
      action: body.action,
      summary: body.summary,
      target: body.target ?? null,
      params: JSON.stringify(body.params),
      reason: body.reason ?? null,
      risk: body.risk === undefined ? null : JSON.stringify(body.risk),
      evidence: JSON.stringify(body.evidence ?? []),
      runId: body.run_id ?? null,
      now,
      expiresAt: now + 1_800_000,
      remindAt: now + 450_000,
      escalateAt: now + 900_000,
    });
    const text = JSON.stringify({ id, status: "pending", ...body, created_at: new Date(now).toISOString() });
    res.writeHead(201, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, "127.0.0.1", () => {
  serveRpc({ cpu: () => process.cpuUsage() }, async () => {
    server.close();
    sqlite.close();
  });
  ready({ port: (server.address() as AddressInfo).port });
});
