import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TEST_CONFIG_YAML, testConfig } from "../support/config.ts";
import { eventually, type Harness, startHarness, tempDir } from "../support/harness.ts";
import { actionsOf, auditEvents, createPosted, MINUTE, rootMessage, visibleText } from "./helpers.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** The test config plus a policy that routes without escalation (reminder at half the ttl). */
const NO_ESCALATION_YAML = TEST_CONFIG_YAML.replace(
  "policies:\n",
  'policies:\n  - name: notes\n    match: { action: "note.*" }\n    route: support-lead\n    ttl: 20m\n',
);

describe("escalation at escalate_after", () => {
  it("pending + escalate_after elapsed → manager DM with buttons, thread reply naming the manager, escalated_at set", async () => {
    const harness = await startHarness();
    h = harness;
    const id = await createPosted(harness);
    const { store } = harness.service.deps;
    const root = await store.getRequest(id);

    // One millisecond early: nothing happens.
    harness.clock.advance(15 * MINUTE - 1);
    expect((await harness.service.sweepNow()).escalated).toBe(0);
    expect((await store.getRequest(id))?.escalatedAt).toBeNull();

    harness.clock.advance(1);
    const escalatedAt = harness.clock.now();
    const report = await harness.service.sweepNow();
    expect(report.escalated).toBe(1);
    expect(report.expired).toBe(0);
    await harness.settle();

    // conversations.open for the manager, then chat.postMessage into that DM channel.
    const opens = harness.slack.callsTo("conversations.open");
    expect(opens).toHaveLength(1);
    const open = opens[0]!;
    expect(open.args.users).toBe("U0MANAGER");
    const dmChannel = (open.response as { channel?: { id?: string } }).channel?.id;
    expect(dmChannel).toMatch(/^D/);
    const openIndex = harness.slack.calls.indexOf(open);
    const dmPostIndex = harness.slack.calls.findIndex(
      (c) => c.method === "chat.postMessage" && c.args.channel === dmChannel,
    );
    expect(dmPostIndex).toBeGreaterThan(openIndex);

    const dm = harness.slack.messages(dmChannel!);
    expect(dm).toHaveLength(1);
    expect(actionsOf(dm[0])?.elements?.map((e) => [e.action_id, e.value])).toEqual([
      ["approve", id],
      ["reject", id],
    ]);

    // The DM says why it came and links to the channel message (Slack's permalink for it).
    const dmBlocks = (dm[0]?.blocks ?? []) as { block_id?: string; text?: { text?: string } }[];
    const intro = dmBlocks.find((b) => b.block_id === "escalation_intro");
    const permalink = `https://countersign-test.slack.com/archives/C0SUPPORT/p${root!.slackTs!.replace(".", "")}`;
    expect(harness.slack.callsTo("chat.getPermalink")[0]?.args).toMatchObject({
      channel: "C0SUPPORT",
      message_ts: root!.slackTs,
    });
    expect(intro?.text?.text).toBe(
      `:rotating_light: *Escalated to you*: nobody in role *support-lead* decided within 15m, so you may now approve or reject it. <${permalink}|Open the channel message> in <#C0SUPPORT>.`,
    );

    // The reminder (due at 7.5m) went out on the first sweep; the escalation notice is the reply naming the manager.
    const replies = harness.slack
      .thread("C0SUPPORT", root!.slackTs!)
      .filter((m) => visibleText(m).includes("<@U0MANAGER>"));
    expect(replies).toHaveLength(1);
    expect(visibleText(replies[0])).toMatch(/escalat/i);

    const row = await store.getRequest(id);
    expect(row?.status).toBe("pending");
    expect(row?.escalatedAt).toBe(escalatedAt);
    expect(row?.escalatedTo).toBe("U0MANAGER");
    expect(row?.dmChannel).toBe(dmChannel);
    expect(row?.dmTs).toBe(dm[0]?.ts);
    const resource = await harness.api("GET", `/v1/requests/${id}`);
    expect(resource.json.escalated_at).toBe(new Date(escalatedAt).toISOString());
    expect((await auditEvents(store, id)).filter((e) => e === "escalated")).toHaveLength(1);
  });

  it("escalated + swept again → no second DM, no second thread reply", async () => {
    const harness = await startHarness();
    h = harness;
    const id = await createPosted(harness);
    harness.clock.advance(15 * MINUTE);
    expect((await harness.service.sweepNow()).escalated).toBe(1);
    await harness.settle();

    expect((await harness.service.sweepNow()).escalated).toBe(0);
    harness.clock.advance(5 * MINUTE);
    expect((await harness.service.sweepNow()).escalated).toBe(0);
    await harness.settle();

    const root = await harness.service.deps.store.getRequest(id);
    expect(harness.slack.callsTo("conversations.open")).toHaveLength(1);
    expect(harness.slack.messages("D0MANAGER")).toHaveLength(1);
    const managerReplies = harness.slack
      .thread("C0SUPPORT", root!.slackTs!)
      .filter((m) => visibleText(m).includes("<@U0MANAGER>"));
    expect(managerReplies).toHaveLength(1);
    expect((await auditEvents(harness.service.deps.store, id)).filter((e) => e === "escalated")).toHaveLength(
      1,
    );
  });

  it("escalated + manager approves in the DM → approved by the manager, both messages updated", async () => {
    const harness = await startHarness();
    h = harness;
    const id = await createPosted(harness);
    const { store } = harness.service.deps;

    harness.slack.setUsergroup("S0LEADS", ["U0LEAD3"]);
    // Before escalation the manager is not an approver: refused, nothing changes.
    await harness.click("U0MANAGER", "approve", id);
    await eventually(async () => (await auditEvents(store, id)).includes("refused_click"));
    expect((await store.getRequest(id))?.status).toBe("pending");

    harness.clock.advance(15 * MINUTE);
    await harness.service.sweepNow();
    await harness.settle();
    const row = (await store.getRequest(id))!;
    expect(row.dmChannel).toBe("D0MANAGER");

    expect(await harness.click("U0MANAGER", "approve", id, { channel: row.dmChannel!, ts: row.dmTs! })).toBe(
      200,
    );
    await eventually(async () => (await store.getRequest(id))?.status === "approved");
    const decided = (await store.getRequest(id))!;
    expect(decided.resolution).toBe("approved_by_humans");
    expect((await store.decisionsFor(id)).map((d) => d.approverId)).toEqual(["U0MANAGER"]);
    await harness.settle();

    const dm = rootMessage(harness, "D0MANAGER", decided.dmTs);
    const channel = rootMessage(harness, "C0SUPPORT", decided.slackTs);
    for (const message of [dm, channel]) {
      expect(message?.updates).toBeGreaterThanOrEqual(1);
      expect(actionsOf(message)).toBeUndefined();
      expect(visibleText(message)).toContain("U0MANAGER");
    }
    // The updated DM still says why it came; the channel message never had that line.
    expect(visibleText(dm)).toContain("Escalated to you");
    expect(visibleText(channel)).not.toContain("Escalated to you");
  });
});

describe("escalation with nobody to escalate to", () => {
  it("pending + escalate_after elapsed after the role lost its escalate_to → escalation skipped, nobody recorded, no DM", async () => {
    const tmp = tempDir();
    const dbPath = join(tmp.dir, "db.sqlite");
    try {
      const first = await startHarness({ dbPath });
      const id = await createPosted(first);
      await first.stop();
      // Restarted with a config whose role no longer names a manager (and the policy no escalation).
      const edited = TEST_CONFIG_YAML.replace("    escalate_to: U0MANAGER\n", "").replace(
        "    ttl: 30m\n    escalate_after: 15m\n",
        "    ttl: 30m\n",
      );
      const harness = await startHarness({ dbPath, config: testConfig(edited), clock: first.clock });
      h = harness;
      const { store } = harness.service.deps;
      harness.clock.advance(15 * MINUTE);
      expect((await harness.service.sweepNow()).escalated).toBe(0);
      await harness.settle();
      const row = await store.getRequest(id);
      expect(row?.escalateAt).toBeNull();
      expect(row?.escalatedTo).toBeNull();
      expect(row?.escalatedAt).toBeNull();
      expect(harness.slack.callsTo("conversations.open")).toHaveLength(0);
      harness.clock.advance(MINUTE);
      await harness.service.sweepNow();
      expect((await auditEvents(store, id)).filter((e) => e === "escalation_skipped")).toHaveLength(1);
      expect((await harness.api("GET", `/v1/requests/${id}`)).json.escalated_at).toBeNull();
    } finally {
      await h?.stop();
      h = undefined;
      tmp.cleanup();
    }
  });
});

describe("reminder at half of escalate_after (or ttl)", () => {
  it("pending + half of escalate_after elapsed → one thread reply pinging the approvers, not repeated", async () => {
    const harness = await startHarness();
    h = harness;
    const id = await createPosted(harness);
    const { store } = harness.service.deps;
    const ts = (await store.getRequest(id))!.slackTs!;

    harness.clock.advance(7.5 * MINUTE - 1);
    expect((await harness.service.sweepNow()).reminded).toBe(0);
    await harness.settle();
    expect(harness.slack.thread("C0SUPPORT", ts)).toHaveLength(0);

    harness.clock.advance(1);
    const report = await harness.service.sweepNow();
    expect(report).toMatchObject({ reminded: 1, escalated: 0, expired: 0 });
    await harness.settle();
    const replies = harness.slack.thread("C0SUPPORT", ts);
    expect(replies).toHaveLength(1);
    expect(visibleText(replies[0])).toContain("<@U0LEAD1>");
    expect(visibleText(replies[0])).toContain("<@U0LEAD2>");
    expect(visibleText(replies[0])).not.toContain("<@U0MANAGER>");

    expect((await harness.service.sweepNow()).reminded).toBe(0);
    harness.clock.advance(MINUTE);
    expect((await harness.service.sweepNow()).reminded).toBe(0);
    await harness.settle();
    expect(harness.slack.thread("C0SUPPORT", ts)).toHaveLength(1);
    expect((await auditEvents(store, id)).filter((e) => e === "reminded")).toHaveLength(1);
    expect((await store.getRequest(id))?.status).toBe("pending");
  });

  it("pending without escalation + half of ttl elapsed → one reminder", async () => {
    const harness = await startHarness({ config: testConfig(NO_ESCALATION_YAML) });
    h = harness;
    const id = await createPosted(harness, { action: "note.add", summary: "Add a note", params: { n: 1 } });
    const ts = (await harness.service.deps.store.getRequest(id))!.slackTs!;

    harness.clock.advance(10 * MINUTE - 1);
    expect((await harness.service.sweepNow()).reminded).toBe(0);
    harness.clock.advance(1);
    expect(await harness.service.sweepNow()).toMatchObject({ reminded: 1, escalated: 0 });
    harness.clock.advance(5 * MINUTE);
    expect(await harness.service.sweepNow()).toMatchObject({ reminded: 0, escalated: 0 });
    await harness.settle();
    expect(harness.slack.thread("C0SUPPORT", ts)).toHaveLength(1);
    expect(harness.slack.callsTo("conversations.open")).toHaveLength(0);
  });

  it("decided before the reminder is due → no reminder", async () => {
    const harness = await startHarness();
    h = harness;
    const id = await createPosted(harness);
    const { store } = harness.service.deps;
    await harness.click("U0LEAD1", "approve", id);
    await eventually(async () => (await store.getRequest(id))?.status === "approved");
    harness.clock.advance(20 * MINUTE);
    expect(await harness.service.sweepNow()).toEqual({
      expired: 0,
      escalated: 0,
      reminded: 0,
      failed: 0,
      more: false,
    });
    await harness.settle();
    expect(harness.slack.thread("C0SUPPORT", (await store.getRequest(id))!.slackTs!)).toHaveLength(0);
  });
});
