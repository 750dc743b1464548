import { afterEach, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { eventually, type Harness, REFUND, startHarness } from "../support/harness.ts";
import {
  auditRows,
  channelMessage,
  clickRaw,
  createPosted,
  decisions,
  hasButtons,
  row,
  submitRejectKind,
} from "./helpers.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

type ModalBlock = {
  type: string;
  block_id?: string;
  element?: {
    type?: string;
    action_id?: string;
    initial_option?: { value: string };
    options?: { value: string }[];
  };
};

const totalRequests = async (harness: Harness) =>
  (await harness.service.deps.store.countByStatus()).reduce((n, r) => n + r.n, 0);

/** Creates a request, has U0LEAD1 request changes on it, and returns its id once the message is updated. */
async function changesRequested(
  harness: Harness,
  body: Record<string, unknown> = REFUND,
  comment = "Refund only $60; the blender was used for a month",
) {
  const id = await createPosted(harness, body);
  const res = await submitRejectKind(harness, "U0LEAD1", id, "request_changes", comment);
  expect(res.json).toBeUndefined();
  await harness.settle();
  return id;
}

describe("Request changes (CONTRACT §9)", () => {
  it("the reject modal offers kind: radio buttons reject / request_changes, reject preselected", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    await clickRaw(h, "U0LEAD1", "reject", id);
    const opened = await h.slack.waitFor((s) => s.views[0]);
    const blocks = (opened.view as { blocks: ModalBlock[] }).blocks;
    const kind = blocks.find((b) => b.block_id === "kind");
    expect(kind?.type).toBe("input");
    expect(kind?.element).toMatchObject({
      type: "radio_buttons",
      action_id: "kind",
      initial_option: { value: "reject" },
    });
    expect(kind?.element?.options?.map((o) => o.value)).toEqual(["reject", "request_changes"]);
    expect(blocks.find((b) => b.block_id === "reason")?.element?.action_id).toBe("reason");
  });

  it("submitted with request_changes → rejected / changes_requested, the reason as comment, audited, message says so without buttons", async () => {
    h = await startHarness();
    const id = await changesRequested(h);
    expect(await row(h, id)).toMatchObject({ status: "rejected", resolution: "changes_requested" });
    expect(await decisions(h, id)).toEqual([
      expect.objectContaining({
        approverId: "U0LEAD1",
        decision: "reject",
        comment: "Refund only $60; the blender was used for a month",
      }),
    ]);
    expect(await auditRows(h, id, "changes_requested")).toHaveLength(1);
    const api = await h.api("GET", `/v1/requests/${id}`);
    expect(api.json).toMatchObject({ status: "rejected", resolution: "changes_requested" });
    const message = await channelMessage(h, id);
    expect(hasButtons(message)).toBe(false);
    expect(JSON.stringify(message.blocks)).toContain("Changes requested by <@U0LEAD1>");
  });

  it("submitted with kind reject → rejected_by_human as before", async () => {
    h = await startHarness();
    const id = await createPosted(h);
    await submitRejectKind(h, "U0LEAD1", id, "reject", "No.");
    await eventually(async () => (await row(h!, id)).status === "rejected");
    expect((await row(h, id)).resolution).toBe("rejected_by_human");
    expect(await auditRows(h, id, "changes_requested")).toHaveLength(0);
  });
});

describe("Revisions (CONTRACT §9)", () => {
  it("a revision is posted in the original's thread naming what changed; the original links to it; revises / revised_by", async () => {
    h = await startHarness();
    const original = await changesRequested(h);
    const created = await h.create({
      ...REFUND,
      summary: "Refund $60 to Dana Ruiz for a used blender",
      params: { ...REFUND.params, amount: 60 },
      revises: original,
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ revises: original, revised_by: null, status: "pending" });
    const revision = created.json.id as string;
    await eventually(async () => (await row(h!, revision)).slackTs);
    await h.settle();

    const first = await row(h, original);
    const reply = await channelMessage(h, revision);
    expect(reply.thread_ts).toBe(first.slackTs);
    const text = JSON.stringify(reply.blocks);
    expect(text).toContain(`Revision of \`${original}\``);
    expect(text).toContain("`amount`: `75` → `60`");
    expect(text).toContain("Summary was: Refund $75 to Dana Ruiz");
    expect(text).toContain("Refund only $60");
    expect(hasButtons(reply)).toBe(true);

    const api = await h.api("GET", `/v1/requests/${original}`);
    expect(api.json).toMatchObject({
      revised_by: revision,
      status: "rejected",
      resolution: "changes_requested",
    });
    const originalText = JSON.stringify((await channelMessage(h, original)).blocks);
    expect(originalText).toContain(`Revised by <https://slack.com/archives/C0SUPPORT/p`);
    expect(originalText).toContain(`|${revision}>`);
  });

  it("a chain of two: the second revision goes into the same thread and links from the first", async () => {
    h = await startHarness();
    const original = await changesRequested(h);
    const one = await h.create({ ...REFUND, params: { ...REFUND.params, amount: 60 }, revises: original });
    await eventually(async () => (await row(h!, one.json.id)).slackTs);
    const res = await submitRejectKind(h, "U0LEAD2", one.json.id, "request_changes", "Make it $55");
    expect(res.json).toBeUndefined();
    await h.settle();
    const two = await h.create({ ...REFUND, params: { ...REFUND.params, amount: 55 }, revises: one.json.id });
    expect(two.status).toBe(201);
    await eventually(async () => (await row(h!, two.json.id)).slackTs);
    await h.settle();

    const root = (await row(h, original)).slackTs;
    expect((await channelMessage(h, two.json.id)).thread_ts).toBe(root);
    expect(JSON.stringify((await channelMessage(h, two.json.id)).blocks)).toContain("`amount`: `60` → `55`");
    expect(await row(h, one.json.id)).toMatchObject({ revises: original, revisedBy: two.json.id });
    expect((await row(h, original)).revisedBy).toBe(one.json.id);
    expect(JSON.stringify((await channelMessage(h, one.json.id)).blocks)).toContain(`|${two.json.id}>`);
  });

  it("a revision routed to another role's channel is posted there as a new message, still naming what changed", async () => {
    h = await startHarness();
    const original = await changesRequested(h);
    const created = await h.create({
      ...REFUND,
      params: { ...REFUND.params, amount: 500 },
      revises: original,
    });
    expect(created.status).toBe(201);
    const revision = created.json.id as string;
    await eventually(async () => (await row(h!, revision)).slackTs);
    await h.settle();
    const message = await channelMessage(h, revision);
    expect((await row(h, revision)).slackChannel).toBe("C0FINANCE");
    expect(message.thread_ts).toBeUndefined();
    expect(JSON.stringify(message.blocks)).toContain("`amount`: `75` → `500`");
    expect(JSON.stringify((await channelMessage(h, original)).blocks)).toContain(`|${revision}>`);
  });

  it("revising another agent's request, an unknown id or a pending one → 400 naming revises, nothing stored", async () => {
    h = await startHarness();
    const original = await changesRequested(h);
    const pending = await createPosted(h);
    const before = await totalRequests(h);

    const other = await h.create({ ...REFUND, revises: original }, { token: TOKENS.deploy });
    expect(other.status).toBe(400);
    expect(other.json.error).toMatchObject({ code: "invalid_request", issues: [{ path: "revises" }] });
    const unknown = await h.create({ ...REFUND, revises: "req_0000000000" });
    expect(unknown.status).toBe(400);
    // Another agent's request and a missing one are answered alike: ids do not leak across agents.
    expect(unknown.json.error.message.replace("req_0000000000", original)).toBe(other.json.error.message);
    const stillPending = await h.create({ ...REFUND, revises: pending });
    expect(stillPending.status).toBe(400);
    expect(stillPending.json.error.message).toContain("still pending");
    const malformed = await h.create({ ...REFUND, revises: "not an id" });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.issues[0].path).toBe("revises");

    expect(await totalRequests(h)).toBe(before);
    expect((await row(h, original)).revisedBy).toBeNull();
  });
});
