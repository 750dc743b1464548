import type { InputBlock, PlainTextInput, SectionBlock } from "@slack/types";
import { describe, expect, it } from "vitest";
import {
  renderAlreadyFinal,
  renderEscalationNotice,
  renderRefusal,
  renderRejectModal,
  renderReminder,
  validateMessage,
  validateView,
} from "../../src/slack/render/index.ts";
import { makeRequest, vote } from "./render-fixture.ts";

const DATE = /<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[0-9T:.\-Z]+>/;

describe("renderEscalationNotice", () => {
  it("names the manager and how long nobody decided", () => {
    const m = renderEscalationNotice(makeRequest({ escalated_at: "2026-11-22T10:15:00.000Z" }), "U0MANAGER");
    expect(m.text).toMatch(/^:rotating_light: Escalated to <@U0MANAGER> — no decision after 15m\. /);
    expect(m.text).toMatch(DATE);
    expect(validateMessage(m.blocks)).toEqual([]);
    expect((m.blocks[0] as SectionBlock).text?.text).toBe(m.text);
  });

  it("does not mention a malformed manager id", () => {
    expect(renderEscalationNotice(makeRequest(), "<!channel>").text).toContain(
      "Escalated to &lt;!channel&gt;",
    );
  });
});

describe("renderReminder", () => {
  it("pings each approver and the group once, and says when it expires", () => {
    const m = renderReminder(makeRequest(), ["U0LEAD1", "U0LEAD2", "U0LEAD1"], "S0LEADS");
    expect(m.text.match(/<@U0LEAD1>/g)).toHaveLength(1);
    expect(m.text).toContain("<@U0LEAD2>");
    expect(m.text.match(/<!subteam\^S0LEADS>/g)).toHaveLength(1);
    expect(m.text).toMatch(
      /^⏳ <@U0LEAD1> <@U0LEAD2> <!subteam\^S0LEADS> Reminder: this request is still waiting for a decision; it expires <!date\^1795343400\^/,
    );
    expect(validateMessage(m.blocks)).toEqual([]);
  });

  it("without approvers or group it still reminds", () => {
    expect(renderReminder(makeRequest(), [], null).text).toMatch(
      /^⏳ Reminder: this request is still waiting/,
    );
  });
});

describe("renderRefusal", () => {
  const role = { approvers: ["U0LEAD1", "U0LEAD2"], usergroup: "S0LEADS", escalateTo: "U0MANAGER" };

  it("not an approver: names the role and who may decide", () => {
    expect(renderRefusal("not_an_approver", makeRequest(), role)).toBe(
      "You are not an approver for role *support-lead*; approvers: <@U0LEAD1>, <@U0LEAD2> and members of <!subteam^S0LEADS>.",
    );
  });

  it("not an approver, once escalated: the manager is listed too", () => {
    expect(
      renderRefusal("not_an_approver", makeRequest({ escalated_at: "2026-11-22T10:15:00.000Z" }), role),
    ).toBe(
      "You are not an approver for role *support-lead*; approvers: <@U0LEAD1>, <@U0LEAD2>, members of <!subteam^S0LEADS> and <@U0MANAGER> (escalation).",
    );
  });

  it("not an approver, without role details", () => {
    expect(renderRefusal("not_an_approver", makeRequest())).toBe(
      "You are not an approver for role *support-lead*, so you cannot decide this request.",
    );
  });

  it("the requester cannot approve their own request", () => {
    expect(renderRefusal("requester", makeRequest())).toMatch(
      /^You asked for this action .*so you cannot approve it/,
    );
  });

  it("already voted: says how many distinct approvers it needs", () => {
    expect(
      renderRefusal("already_voted", makeRequest({ approvals_required: 2, decisions: [vote("U0LEAD1")] })),
    ).toBe("You already approved this request; it needs 2 distinct approvers.");
  });
});

describe("renderAlreadyFinal", () => {
  const decided = { decided_at: "2026-11-22T10:05:00.000Z" };

  it("approved by people", () => {
    const text = renderAlreadyFinal(
      makeRequest({
        ...decided,
        status: "approved",
        resolution: "approved_by_humans",
        decisions: [vote("U0LEAD1"), vote("U0LEAD2")],
      }),
    );
    expect(text).toMatch(
      /^This request was already approved by <@U0LEAD1> and <@U0LEAD2> \(<!date\^1795341900\^/,
    );
  });

  it("rejected by a person", () => {
    const text = renderAlreadyFinal(
      makeRequest({
        ...decided,
        status: "rejected",
        resolution: "rejected_by_human",
        decisions: [vote("U0LEAD2", "reject", "no")],
      }),
    );
    expect(text).toMatch(/^This request was already rejected by <@U0LEAD2> \(/);
  });

  it("expired, cancelled, decided by policy", () => {
    expect(
      renderAlreadyFinal(makeRequest({ ...decided, status: "expired", resolution: "approval_timeout" })),
    ).toMatch(/^This request expired \(<!date\^1795341900\^.*\) without a decision\.$/);
    expect(
      renderAlreadyFinal(makeRequest({ ...decided, status: "cancelled", resolution: "cancelled_by_agent" })),
    ).toMatch(/^This request was cancelled by the agent/);
    expect(
      renderAlreadyFinal(
        makeRequest({ status: "approved", resolution: "approved_by_policy", policy: "small-refunds" }),
      ),
    ).toBe("This request was already approved by policy `small-refunds`.");
  });
});

describe("renderRejectModal", () => {
  it("has the contract's shape", () => {
    const view = renderRejectModal(makeRequest());
    expect(view).toMatchObject({
      type: "modal",
      callback_id: "reject",
      private_metadata: "req_01JDX5",
      title: { type: "plain_text", text: "Reject request" },
      submit: { type: "plain_text", text: "Reject" },
      close: { type: "plain_text", text: "Cancel" },
    });
    const input = view.blocks.find((b) => b.type === "input" && b.block_id === "reason") as InputBlock;
    expect(input.block_id).toBe("reason");
    expect(input.label).toEqual({ type: "plain_text", text: "Reason" });
    expect(input.element).toMatchObject({
      type: "plain_text_input",
      action_id: "reason",
      multiline: true,
      min_length: 1,
      max_length: 2000,
    });
    expect((input.element as PlainTextInput).action_id).toBe("reason");
    expect((view.blocks[0] as SectionBlock).text?.text).toBe(
      "*refund.issue*\nRefund $75 to Dana Ruiz for a defective blender",
    );
    expect(validateView(view)).toEqual([]);
  });

  it("escapes and cuts what the agent sent", () => {
    const view = renderRejectModal(
      makeRequest({ action: `<!channel>${"a".repeat(500)}`, summary: `<@U123> ${"s".repeat(9000)}` }),
    );
    const text = (view.blocks[0] as SectionBlock).text?.text ?? "";
    expect(text).not.toContain("<!channel>");
    expect(text).not.toContain("<@U123>");
    expect(text).toMatch(/… \(\d+ more characters\)$/);
    expect(validateView(view)).toEqual([]);
  });
});
