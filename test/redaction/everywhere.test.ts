import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { writeExport } from "../../src/audit/export.ts";
import { argsHash } from "../../src/domain/canonical-json.ts";
import { verifyHarnessDb, withAuditRows } from "../audit/helpers.ts";
import { useCleanups } from "../support/cleanups.ts";
import { openReader } from "../support/db-reader.ts";
import { REFUND, startHarness, tempDir } from "../support/harness.ts";
import { startReceiver } from "../time/helpers.ts";

const cleanups = useCleanups();

// The test config redacts `card_number`; planted at several depths and in several cases.
const SECRET = "SECRET-4111-1111-1111-1111";
const PARAMS = {
  amount: 75,
  payment: { Card_Number: SECRET, last4: "1111" },
  items: [{ sku: "BL-9", CARD_NUMBER: `${SECRET}-2` }],
  card_number: `${SECRET}-3`,
};

async function exportText(path: string): Promise<string> {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  await withAuditRows(path, (rows) => writeExport(rows, { since: null, request: null }, sink));
  return chunks.join("");
}

/** Every column of every audit row, read by a second connection. */
async function auditTable(path: string): Promise<unknown[]> {
  const reader = await openReader(path);
  try {
    return await reader.all("SELECT * FROM audit_log ORDER BY id");
  } finally {
    await reader.close();
  }
}

describe("redaction everywhere", () => {
  it("a secret under a redact key reaches no Slack call, log line, audit row, export, events answer, metric or error; the agent's own views keep it", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const dbPath = join(dir, "countersign.db");
    const hook = await startReceiver();
    cleanups.push(() => hook.close());
    const h = await startHarness({ dbPath });
    cleanups.push(() => h.stop());

    // Human route: posted, a refused click, approved, callback, outcome.
    const a = await h.create({ ...REFUND, params: PARAMS, callback_url: hook.url });
    expect(a.status).toBe(201);
    await h.settle();
    await h.click("U0STRANGER", "approve", a.json.id);
    await h.click("U0LEAD1", "approve", a.json.id);
    await h.settle();
    await h.api("POST", `/v1/requests/${a.json.id}/outcome`, { status: "succeeded" });
    // Finance route: escalated by DM to the manager, then expired.
    const b = await h.create({ ...REFUND, params: { ...PARAMS, amount: 900 } });
    await h.settle();
    h.clock.advance(2 * 3_600_000 + 1);
    await h.service.sweepNow();
    await h.settle();
    h.clock.advance(2 * 3_600_000);
    await h.service.sweepNow();
    // Refusals: the error answers must not echo the secret either.
    const refused = await Promise.all([
      h.create({ ...REFUND, params: PARAMS, colour: "red" }),
      h.create({ ...REFUND, action: "email.send", params: PARAMS }),
      h.create({ ...REFUND, params: PARAMS }, { headers: { "idempotency-key": "k1" } }),
    ]);
    const conflict = await h.create(
      { ...REFUND, params: { ...PARAMS, amount: 76 } },
      { headers: { "idempotency-key": "k1" } },
    );
    // Something logs a redact key deep inside an object: the service's logger redacts it.
    h.service.deps.log.warn({ body: { params: PARAMS } }, "diagnostic");
    // The audit event issue 13 will write for approve-with-edits carries params: redacted when stored.
    await h.service.deps.store.audit(b.json.id, h.clock.now(), "edited", "slack:U0FIN1", { params: PARAMS });
    await h.settle();

    const channels: Record<string, string> = {
      slack: JSON.stringify(h.slack.calls),
      logs: h.logs.join(""),
      audit: JSON.stringify(await auditTable(dbPath)),
      export: await exportText(dbPath),
      events: JSON.stringify([
        (await h.api("GET", `/v1/requests/${a.json.id}/events`)).json,
        (await h.api("GET", `/v1/requests/${b.json.id}/events`)).json,
      ]),
      metrics: await (await fetch(`${h.url}/metrics`)).text(),
      // (the 201 that set up the conflict is the agent's own view, not an error)
      errors: JSON.stringify([refused[0]?.json, refused[1]?.json, conflict.json]),
    };
    for (const [channel, text] of Object.entries(channels)) {
      expect(text.length, channel).toBeGreaterThan(0);
      expect(text, `${channel} leaks the secret`).not.toContain(SECRET);
    }
    // The planted values did travel these channels, redacted.
    for (const channel of ["slack", "logs", "audit", "export", "events"]) {
      expect(channels[channel], channel).toContain("[redacted]");
    }
    expect(h.slack.callsTo("conversations.open").length).toBeGreaterThan(0);
    expect(refused.map((r) => r.status)).toEqual([400, 422, 201]);
    expect(conflict.status).toBe(409);

    // The agent's own resource and callback keep the values; args_hash covers them.
    const own = await h.api("GET", `/v1/requests/${a.json.id}`);
    expect(own.json.params).toEqual(PARAMS);
    expect(own.json.args_hash).toBe(argsHash(PARAMS));
    expect(hook.deliveries.map((d) => d.body).join("")).toContain(SECRET);
    expect(await verifyHarnessDb(dbPath)).toMatchObject({ ok: true });
  });
});
