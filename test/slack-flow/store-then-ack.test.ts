import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness, tempDir } from "../support/harness.ts";
import { freshPostgresUrl, onPostgres } from "../support/postgres.ts";
import { type DbProxy, startDbProxy } from "../support/tcp-proxy.ts";
import { clickRaw, createPosted, decisions, row, submitRejectRaw } from "./helpers.ts";

let h: Harness | undefined;
let lock: Database.Database | undefined;
let cleanup: (() => void) | undefined;
let proxy: DbProxy | undefined;
afterEach(async () => {
  lock?.close();
  lock = undefined;
  proxy?.up();
  await h?.stop();
  await proxy?.close();
  proxy = undefined;
  h = undefined;
  cleanup?.();
  cleanup = undefined;
});

/**
 * A service whose database can be made to take no writes: on SQLite a second
 * connection (another process, as far as SQLite cares) holds the write lock;
 * on PostgreSQL the server becomes unreachable (a proxy cuts the connections).
 */
async function lockable(): Promise<{ h: Harness; hold: () => void; release: () => void }> {
  if (onPostgres) {
    const p = await startDbProxy(await freshPostgresUrl());
    proxy = p;
    h = await startHarness({ postgresUrl: p.url, writes: { budgetMs: 300 } });
    return { h, hold: () => p.down(), release: () => p.up() };
  }
  const t = tempDir();
  cleanup = t.cleanup;
  const dbPath = join(t.dir, "cs.db");
  h = await startHarness({ dbPath });
  const other = new Database(dbPath);
  lock = other;
  return { h, hold: () => other.exec("BEGIN IMMEDIATE"), release: () => other.exec("ROLLBACK") };
}

describe("a Slack interaction is stored before it is acked (CONTRACT §5)", () => {
  it("approve while the database takes no writes (SQLite: another process holds the write lock; PostgreSQL: unreachable) → no success ack (HTTP 500), the clicker is told ephemerally, nothing stored; once it takes writes again → the click is stored before its 200", async () => {
    const { h, hold, release } = await lockable();
    const id = await createPosted(h);
    const { slackChannel, slackTs } = await row(h, id);
    hold();
    const refused = await clickRaw(h, "U0LEAD1", "approve", id, { channel: slackChannel!, ts: slackTs! });
    expect(refused.status).toBe(500);
    const told = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD1")[0]);
    expect(told.text).toContain("could not save your click");
    release();
    expect(await decisions(h, id)).toEqual([]);
    expect((await row(h, id)).status).toBe("pending");

    const acked = await clickRaw(h, "U0LEAD1", "approve", id);
    expect(acked.status).toBe(200);
    // No waiting: the 200 came after the COMMIT.
    expect((await row(h, id)).status).toBe("approved");
    expect((await decisions(h, id)).map((d) => d.approverId)).toEqual(["U0LEAD1"]);
    await h.settle();
  });

  it("reject button while the database takes no writes → HTTP 500, ephemeral, no modal; reject submission meanwhile → the modal shows the error, nothing stored", async () => {
    const { h, hold, release } = await lockable();
    const id = await createPosted(h);
    const { slackChannel, slackTs } = await row(h, id);
    hold();
    const click = await clickRaw(h, "U0LEAD2", "reject", id, {
      triggerId: "trig-locked",
      channel: slackChannel!,
      ts: slackTs!,
    });
    expect(click.status).toBe(500);
    await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0LEAD2")[0]);
    expect(h.slack.callsTo("views.open")).toHaveLength(0);

    const submitted = await submitRejectRaw(h, "U0LEAD2", id, "Duplicate refund");
    expect(submitted.status).toBe(200);
    expect(submitted.json).toEqual({
      response_action: "errors",
      errors: { reason: expect.stringContaining("could not save") },
    });
    release();
    expect((await row(h, id)).status).toBe("pending");
    expect(await decisions(h, id)).toEqual([]);

    const again = await submitRejectRaw(h, "U0LEAD2", id, "Duplicate refund");
    expect(again.json).toBeUndefined();
    expect(await row(h, id)).toMatchObject({ status: "rejected", resolution: "rejected_by_human" });
    await h.settle();
  });
});
