import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness, tempDir } from "../support/harness.ts";
import { clickRaw, createPosted, decisions, row, submitRejectRaw } from "./helpers.ts";

let h: Harness | undefined;
let lock: Database.Database | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  lock?.close();
  lock = undefined;
  await h?.stop();
  h = undefined;
  cleanup?.();
  cleanup = undefined;
});

/** A service on a database file, and a second connection (another process, as far as SQLite cares). */
async function lockable(): Promise<{ h: Harness; hold: () => void; release: () => void }> {
  const t = tempDir();
  cleanup = t.cleanup;
  const dbPath = join(t.dir, "cs.db");
  h = await startHarness({ dbPath });
  const other = new Database(dbPath);
  lock = other;
  return { h, hold: () => other.exec("BEGIN IMMEDIATE"), release: () => other.exec("ROLLBACK") };
}

describe("a Slack interaction is stored before it is acked (CONTRACT §5)", () => {
  it("approve while another process holds the write lock → no success ack (HTTP 500), the clicker is told ephemerally, nothing stored; after the lock → the click is stored before its 200", async () => {
    const { h, hold, release } = await lockable();
    const id = await createPosted(h);
    hold();
    const refused = await clickRaw(h, "U0LEAD1", "approve", id);
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

  it("reject button while the write lock is held → HTTP 500, ephemeral, no modal; reject submission while it is held → the modal shows the error, nothing stored", async () => {
    const { h, hold, release } = await lockable();
    const id = await createPosted(h);
    hold();
    const click = await clickRaw(h, "U0LEAD2", "reject", id, { triggerId: "trig-locked" });
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
