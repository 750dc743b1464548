/**
 * The PostgreSQL baseline: a bare node:http server on a `pg` pool of the size
 * countersign uses by default (DATABASE_POOL_SIZE 10) and nothing else.
 *   intake: reads the body, parses it and does one named prepared insert of
 *           the same row into the same (migrated) requests table;
 *   click:  reads a Slack block_actions form body, parses the payload and does
 *           one conditional UPDATE … WHERE status = 'pending' on the clicked
 *           request (the race-deciding write, without the decision row, audit
 *           events or chat.update that countersign also stores).
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { childOptions, ready, serveRpc } from "../lib/child-side.ts";

export interface BarePgOptions {
  databaseUrl: string;
  mode: "intake" | "click";
  poolSize?: number;
}

const { databaseUrl, mode, poolSize } = childOptions<BarePgOptions>();
const db = new pg.Pool({ connectionString: databaseUrl, max: poolSize ?? 10 });

const INSERT = `INSERT INTO requests (
  id, agent, status, action, summary, target, params, reason, risk, evidence, run_id, args_hash,
  policy, role, approvals_required, ttl_ms, created_at, expires_at, remind_at, escalate_at, slack_channel, body_hash
) VALUES (
  $1, 'bench-bot', 'pending', $2, $3, $4, $5, $6, $7, $8, $9, 'sha256:-',
  'medium-refunds', 'support-lead', 1, 1800000, $10, $11, $12, $13, 'C0SUPPORT', 'sha256:-'
)`;
const DECIDE =
  "UPDATE requests SET status = 'approved', decided_at = $2 WHERE id = $1 AND status = 'pending'";

async function intake(raw: string): Promise<[number, string]> {
  const body = JSON.parse(raw) as Record<string, unknown>;
  const now = Date.now();
  const id = `req_${randomBytes(12).toString("base64url")}`;
  await db.query({
    name: "bare_insert",
    text: INSERT,
    values: [
      id,
      body.action,
      body.summary,
      body.target ?? null,
      JSON.stringify(body.params),
      body.reason ?? null,
      body.risk === undefined ? null : JSON.stringify(body.risk),
      JSON.stringify(body.evidence ?? []),
      body.run_id ?? null,
      now,
      now + 1_800_000,
      now + 450_000,
      now + 900_000,
    ],
  });
  return [201, JSON.stringify({ id, status: "pending", ...body, created_at: new Date(now).toISOString() })];
}

async function click(raw: string): Promise<[number, string]> {
  const payload = JSON.parse(new URLSearchParams(raw).get("payload") ?? "{}") as {
    actions?: { value?: string }[];
  };
  const id = payload.actions?.[0]?.value;
  if (id === undefined) return [400, ""];
  await db.query({ name: "bare_decide", text: DECIDE, values: [id, Date.now()] });
  return [200, ""];
}

const handle = mode === "intake" ? intake : click;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    handle(Buffer.concat(chunks).toString("utf8")).then(
      ([status, text]) => {
        res.writeHead(status, {
          "content-type": "application/json; charset=utf-8",
          "content-length": Buffer.byteLength(text),
        });
        res.end(text);
      },
      (error: unknown) => {
        process.stderr.write(`bare-pg: ${String(error)}\n`);
        res.writeHead(503).end();
      },
    );
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, "127.0.0.1", () => {
  serveRpc({ cpu: () => process.cpuUsage() }, async () => {
    server.close();
    server.closeAllConnections();
    await db.end();
  });
  ready({ port: (server.address() as AddressInfo).port });
});
