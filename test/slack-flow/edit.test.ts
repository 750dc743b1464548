import { afterEach, describe, expect, it } from "vitest";
import { argsHash } from "../../src/domain/canonical-json.ts";
import { EDITS_CONFIG_YAML, SECRETS, testConfig } from "../support/config.ts";
import { eventually, type Harness, REFUND, startHarness } from "../support/harness.ts";
import { startReceiver, verifyWebhook } from "../support/receiver.ts";
import {
  auditRows,
  blocksOf,
  channelMessage,
  clickRaw,
  createPosted,
  decisions,
  hasButtons,
  LARGE_REFUND,
  pause,
  row,
  snapshot,
  submitEditRaw,
} from "./helpers.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const SECRET_CARD = "4111111111111111";
const WITH_CARD = { ...REFUND, params: { ...REFUND.params, card_number: SECRET_CARD } };

type View = {
  callback_id?: string;
  private_metadata?: string;
  submit?: unknown;
  blocks?: { type: string; block_id?: string; element?: { action_id?: string; initial_value?: string } }[];
};

async function editsHarness(): Promise<Harness> {
  return startHarness({ config: testConfig(EDITS_CONFIG_YAML) });
}

/** Clicks Edit & approve and returns the modal the app opened. */
async function openEdit(harness: Harness, user: string, id: string): Promise<View> {
  const before = harness.slack.views.length;
  const res = await clickRaw(harness, user, "edit", id);
  expect(res.status).toBe(200);
  const opened = await harness.slack.waitFor((s) => s.views[before]);
  return opened.view as View;
}

const edited = (params: Record<string, unknown>) => JSON.stringify(params, null, 2);

describe("Approve with edits (CONTRACT §9)", () => {
  it("policy with edits: true → the message has an Edit & approve button; without it, none", async () => {
    h = await editsHarness();
    const id = await createPosted(h);
    const actions = blocksOf(await channelMessage(h, id)).find((b) => b.type === "actions");
    expect(actions?.elements?.map((e) => e.action_id)).toEqual(["approve", "edit", "reject"]);
    await h.stop();

    h = await startHarness();
    const plain = await createPosted(h);
    const plainActions = blocksOf(await channelMessage(h, plain)).find((b) => b.type === "actions");
    expect(plainActions?.elements?.map((e) => e.action_id)).toEqual(["approve", "reject"]);
  });

  it("approver clicks Edit → approve_with_edits modal with the params as JSON, redacted keys left out, nothing decided", async () => {
    h = await editsHarness();
    const id = await createPosted(h, WITH_CARD);
    const view = await openEdit(h, "U0LEAD1", id);
    expect(view.callback_id).toBe("approve_with_edits");
    expect(view.private_metadata).toBe(id);
    const input = view.blocks?.find((b) => b.type === "input");
    expect(input?.block_id).toBe("params");
    expect(input?.element?.action_id).toBe("params");
    expect(JSON.parse(input?.element?.initial_value ?? "")).toEqual(REFUND.params);
    expect(JSON.stringify(view)).not.toContain(SECRET_CARD);
    await pause();
    expect(await row(h, id)).toMatchObject({ status: "pending", approvedParams: null });
    expect(await decisions(h, id)).toEqual([]);
  });

  it("edit submitted → approved with approved_params/approved_args_hash, redacted value kept, diff on the message, audit `edited` with both hashes", async () => {
    h = await editsHarness();
    const id = await createPosted(h, WITH_CARD);
    await openEdit(h, "U0LEAD1", id);
    const now = h.clock.now();
    const res = await submitEditRaw(
      h,
      "U0LEAD1",
      id,
      edited({ amount: 60, currency: "USD", order_id: "48213", note: "partial refund" }),
    );
    expect(res.status).toBe(200);
    expect(res.json).toBeUndefined();
    await h.settle();

    const approvedParams = {
      amount: 60,
      currency: "USD",
      order_id: "48213",
      note: "partial refund",
      card_number: SECRET_CARD,
    };
    const api = await h.api("GET", `/v1/requests/${id}`);
    expect(api.json).toMatchObject({
      status: "approved",
      resolution: "approved_by_humans",
      params: WITH_CARD.params,
      args_hash: argsHash(WITH_CARD.params),
      approved_params: approvedParams,
      approved_args_hash: argsHash(approvedParams),
      edited_by: "U0LEAD1",
      decided_at: new Date(now).toISOString(),
    });
    expect(api.json.decisions).toEqual([
      expect.objectContaining({ decision: "approve", args_hash: argsHash(approvedParams) }),
    ]);
    // The approval token (CONTRACT §6) binds the edited params, not the proposal.
    const claims = JSON.parse(
      Buffer.from(String(api.json.approval_token).split(".")[1] ?? "", "base64url").toString(),
    );
    expect(claims).toMatchObject({ sub: id, args_hash: argsHash(approvedParams), approvers: ["U0LEAD1"] });

    const [audit] = await auditRows(h, id, "edited");
    const detail = JSON.parse(audit?.detail ?? "{}");
    expect(detail).toMatchObject({
      args_hash: argsHash(WITH_CARD.params),
      approved_args_hash: argsHash(approvedParams),
      changed: ["amount", "note"],
    });
    expect(audit?.actor).toBe("slack:U0LEAD1");
    expect(JSON.stringify(await h.service.deps.store.auditFor(id))).not.toContain(SECRET_CARD);

    const message = await channelMessage(h, id);
    expect(hasButtons(message)).toBe(false);
    const text = JSON.stringify(message.blocks);
    expect(text).toContain("Approved with edits by <@U0LEAD1>");
    expect(text).toContain("`amount`: `75` → `60`");
    expect(text).toContain("`note` added");
    expect(text).not.toContain(SECRET_CARD);
  });

  it("edit with a callback_url → the request.decided callback carries approved_params and approved_args_hash", async () => {
    h = await editsHarness();
    const hook = await startReceiver();
    try {
      const id = await createPosted(h, { ...REFUND, callback_url: hook.url });
      const changed = { ...REFUND.params, amount: 70 };
      expect((await submitEditRaw(h, "U0LEAD2", id, edited(changed))).json).toBeUndefined();
      const [delivery] = await hook.waitForDeliveries(1);
      const payload = verifyWebhook(SECRETS.support, delivery!, h.clock.now()) as {
        data: Record<string, unknown>;
      };
      expect(payload.data).toMatchObject({
        id,
        status: "approved",
        params: REFUND.params,
        approved_params: changed,
        approved_args_hash: argsHash(changed),
        edited_by: "U0LEAD2",
      });
    } finally {
      await hook.close();
    }
  });

  it.each([
    ["invalid JSON", "{ amount: 60 ", "not valid JSON"],
    ["a list, not an object", "[1, 2]", "must be a JSON object"],
    ["a string, not an object", '"sixty"', "must be a JSON object"],
    ["a redacted key typed in", '{"amount": 60, "card_number": "5555"}', "card_number is redacted"],
    ["nothing changed", edited(REFUND.params), "Nothing was changed"],
    ["nested past the body limit", `{"a":${"[".repeat(40)}${"]".repeat(40)}}`, "nested deeper"],
    ["a __proto__ key", '{"__proto__": {"x": 1}}', "__proto__"],
  ])("edit with %s → modal error on the params block, nothing stored", async (_name, text, message) => {
    h ??= await editsHarness();
    const id = await createPosted(h, WITH_CARD);
    const before = await snapshot(h, id);
    const auditBefore = (await h.service.deps.store.auditFor(id)).length;
    const res = await submitEditRaw(h, "U0LEAD1", id, text);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      response_action: "errors",
      errors: { params: expect.stringContaining(message) },
    });
    expect(await snapshot(h, id)).toEqual(before);
    expect((await row(h, id)).approvedParams).toBeNull();
    expect(await h.service.deps.store.auditFor(id)).toHaveLength(auditBefore);
    await h.stop();
    h = undefined;
  });

  it("approvals: 2 — an edit restarts the count on the edited version; the old vote no longer counts; the message says so", async () => {
    h = await editsHarness();
    const id = await createPosted(h, LARGE_REFUND);
    expect(await h.click("U0FIN1", "approve", id)).toBe(200);
    await eventually(async () => (await decisions(h!, id)).length === 1);

    await openEdit(h, "U0FIN2", id);
    const res = await submitEditRaw(h, "U0FIN2", id, edited({ ...LARGE_REFUND.params, amount: 450 }));
    expect(res.json).toBeUndefined();
    await h.settle();
    expect((await row(h, id)).status).toBe("pending");
    const text = JSON.stringify((await channelMessage(h, id)).blocks);
    expect(text).toContain("Approvals restarted on the edited version: 1 of 2");
    expect(text).toContain("approved by <@U0FIN2>");
    expect(text).not.toContain("approved by <@U0FIN1>");

    // FIN2's submission was their approval: approving again is refused as a repeat.
    await h.click("U0FIN2", "approve", id);
    await h.slack.waitFor((s) => s.ephemerals("C0FINANCE", "U0FIN2")[0]);
    expect((await row(h, id)).status).toBe("pending");

    // FIN1 approved the original; approving the edited version counts now.
    await h.click("U0FIN1", "approve", id);
    await eventually(async () => (await row(h!, id)).status === "approved");
    const api = await h.api("GET", `/v1/requests/${id}`);
    expect(api.json.approved_args_hash).toBe(argsHash({ ...LARGE_REFUND.params, amount: 450 }));
    const claims = JSON.parse(
      Buffer.from(String(api.json.approval_token).split(".")[1] ?? "", "base64url").toString(),
    );
    expect(claims.args_hash).toBe(api.json.approved_args_hash);
    expect([...claims.approvers].sort()).toEqual(["U0FIN1", "U0FIN2"]);
  });

  it("approvals: 2 — the same person cannot approve the original and their own edit as two approvals", async () => {
    h = await editsHarness();
    const id = await createPosted(h, LARGE_REFUND);
    await h.click("U0FIN1", "approve", id);
    await eventually(async () => (await decisions(h!, id)).length === 1);
    const res = await submitEditRaw(h, "U0FIN1", id, edited({ ...LARGE_REFUND.params, amount: 400 }));
    expect(res.json).toBeUndefined();
    await h.settle();
    expect((await row(h, id)).status).toBe("pending");
    expect(await decisions(h, id)).toHaveLength(1);
    expect(JSON.stringify((await channelMessage(h, id)).blocks)).toContain("1 of 2");
  });

  it("Edit by a stranger → ephemeral refusal, no modal; a forged submission → modal error, nothing changes", async () => {
    h = await editsHarness();
    const id = await createPosted(h);
    const before = await snapshot(h, id);
    await clickRaw(h, "U0STRANGER", "edit", id);
    const ephemeral = await h.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0STRANGER")[0]);
    expect(ephemeral.text).toContain("You are not an approver");
    expect(h.slack.views).toHaveLength(0);
    expect(await auditRows(h, id, "refused_click")).toHaveLength(1);

    const res = await submitEditRaw(h, "U0STRANGER", id, edited({ ...REFUND.params, amount: 1 }));
    expect(res.json).toMatchObject({
      response_action: "errors",
      errors: { params: expect.stringContaining("not an approver") },
    });
    expect(await snapshot(h, id)).toEqual(before);
    expect((await row(h, id)).approvedParams).toBeNull();
  });

  it("edit racing an approve: the approve won → the edit changes nothing and says it was already approved", async () => {
    h = await editsHarness();
    const id = await createPosted(h);
    await openEdit(h, "U0LEAD1", id);
    await h.click("U0LEAD2", "approve", id);
    await eventually(async () => (await row(h!, id)).status === "approved");
    const res = await submitEditRaw(h, "U0LEAD1", id, edited({ ...REFUND.params, amount: 10 }));
    expect(res.json).toMatchObject({ errors: { params: expect.stringContaining("already approved") } });
    const r = await row(h, id);
    expect(r).toMatchObject({ status: "approved", approvedParams: null, approvedArgsHash: null });
    expect(await auditRows(h, id, "edited")).toHaveLength(0);
  });

  it("edit racing the expiry: ttl passed before the submission → expired, the edit is not applied", async () => {
    h = await editsHarness();
    const id = await createPosted(h);
    await openEdit(h, "U0LEAD1", id);
    h.clock.advance(31 * 60_000);
    const res = await submitEditRaw(h, "U0LEAD1", id, edited({ ...REFUND.params, amount: 10 }));
    expect(res.json).toMatchObject({ errors: { params: expect.stringContaining("expired") } });
    expect(await row(h, id)).toMatchObject({ status: "expired", approvedParams: null });
  });

  it("params over the input's 3000 characters → a clear note instead of a truncated editor", async () => {
    h = await editsHarness();
    const big = {
      ...REFUND,
      params: { ...REFUND.params, lines: Array.from({ length: 200 }, (_, i) => `item ${i}`) },
    };
    const id = await createPosted(h, big);
    const view = await openEdit(h, "U0LEAD1", id);
    expect(view.blocks?.some((b) => b.type === "input")).toBe(false);
    expect(view.submit).toBeUndefined();
    expect(JSON.stringify(view)).toContain("too large to edit in Slack");
  });
});
