import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useCleanups } from "../support/cleanups.ts";
import { REFUND, startHarness, tempDir } from "../support/harness.ts";
import { verifyHarnessDb } from "./helpers.ts";

const cleanups = useCleanups();

describe("the audit head is logged for anchoring", () => {
  it("start-up and shutdown → a log line with the head's seq and hash, the hash audit verify ends on", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const dbPath = join(dir, "countersign.db");
    const h = await startHarness({ dbPath });
    await h.create(REFUND);
    await h.settle();
    await h.stop();
    const lines = h.logs.map(
      (l) => JSON.parse(l) as { msg: string; audit_head?: { seq: number; hash: string } },
    );
    const startup = lines.find((l) => l.msg === "audit chain head (start-up)");
    const shutdown = lines.find((l) => l.msg === "audit chain head (shutdown)");
    expect(startup?.audit_head).toBeNull();
    const result = await verifyHarnessDb(dbPath);
    if (!result.ok || result.head === null) throw new Error("expected a valid, non-empty chain");
    expect(shutdown?.audit_head).toEqual(result.head);
  });
});
