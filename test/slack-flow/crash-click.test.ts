import { once } from "node:events";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { blockActionsPayload, postToApp } from "../../src/fake-slack/slack-requests.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { TOKENS } from "../support/config.ts";
import { type CrashChild, crashChildUrl, spawnCrashChild } from "../support/crash-child.ts";
import { openReader } from "../support/db-reader.ts";
import { postgresUrlFor, REFUND, SIGNING_SECRET, tempDir } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";

let child: CrashChild | undefined;
let slack: FakeSlack | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
    await once(child, "exit");
  }
  child = undefined;
  await slack?.close();
  slack = undefined;
  cleanup?.();
  cleanup = undefined;
});

describe("kill -9 right after Slack got the ack", () => {
  it("usergroup member approves while the user group lookup is slow; the process is killed the instant the 200 arrives → the vote is in the database", async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const dbPath = join(t.dir, "cs.db");
    slack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
    slack.setUsergroup("S0LEADS", ["U0GROUP1"]);
    // The start-up fetch of the member list fails: the click has to look the member up itself.
    slack.failNext("usergroups.users.list", { error: "internal_error" });
    const database = onPostgres ? await postgresUrlFor(dbPath) : dbPath;
    child = spawnCrashChild(database, slack.url, Date.parse("2026-11-22T10:00:00.000Z"));
    const url = await crashChildUrl(child);

    const created = await fetch(`${url}/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKENS.support}`, "content-type": "application/json" },
      body: JSON.stringify(REFUND),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const posted = await slack.waitFor((s) => s.messages("C0SUPPORT")[0], 10_000);

    // Slack answers the membership lookup slowly: an ack sent before the vote is
    // stored would reach us well before the vote is committed.
    slack.delayNext("usergroups.users.list", 1_000);
    const acked = await postToApp(
      `${url}/slack/events`,
      SIGNING_SECRET,
      blockActionsPayload({
        user: { id: "U0GROUP1", username: "u0group1" },
        actionId: "approve",
        value: id,
        channelId: "C0SUPPORT",
        messageTs: posted.ts,
        // As Slack echoes the message (its ts may not be recorded yet when the click comes this early).
        message: { metadata: posted.metadata },
      }),
    );
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(acked.status).toBe(200);

    // Read by a new connection, as the next process would.
    const reader = await openReader(dbPath);
    try {
      const votes = await reader.all<{ approver_id: string }>(
        "SELECT approver_id FROM decisions WHERE request_id = ? ORDER BY id",
        [id],
      );
      expect(votes.map((d) => d.approver_id)).toEqual(["U0GROUP1"]);
      expect(await reader.all("SELECT status, resolution FROM requests WHERE id = ?", [id])).toEqual([
        { status: "approved", resolution: "approved_by_humans" },
      ]);
    } finally {
      await reader.close();
    }
  }, 30_000);
});
