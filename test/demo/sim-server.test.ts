import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { textOf, type VNode } from "../../src/demo/page/vnode.ts";
import { FakeClock } from "../support/clock.ts";
import { DEPLOY_TOKEN, startTestDemo, type TestDemo, until } from "./support.ts";

let t: TestDemo | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const XSS = "<img src=x onerror=alert(1)>";

async function page(path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${t!.simBase}${path}`);
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
}

/** Posts a medium refund and waits until its evidence pack is in #support-approvals. */
async function postedRefund(
  summary = "Refund $120 to Dana Ruiz for a defective blender",
): Promise<{ id: string; ts: string }> {
  const created = await t!.api("POST", "/v1/requests", {
    action: "refund.issue",
    summary,
    params: { amount: 120, currency: "USD" },
    on_behalf_of: "U0REQUESTER",
  });
  expect(created.status).toBe(201);
  const id = created.json.id as string;
  const message = await t!.demo.slack.waitFor((s) =>
    s.messages("C0SUPPORT").find((m) => JSON.stringify(m.blocks).includes(id)),
  );
  return { id, ts: message.ts };
}

describe("the simulator page server", () => {
  it("GET /sim, its script, its stylesheet and the event stream answer", async () => {
    t = await startTestDemo();
    const html = await page("/sim");
    expect(html.status).toBe(200);
    expect(html.type).toContain("text/html");
    expect(html.body).toContain('<script type="module" src="/sim/sim.js"></script>');
    expect(html.body).toContain("support-approvals");
    expect(html.body).toContain("Ana Alvarez — approver");
    // Redaction is stated as it is: hidden in Slack, in full in the agent's view on this page.
    expect(html.body).toContain("as [redacted]");
    expect(html.body).toContain("(card_number)");
    expect(html.body).toContain("where they stay in full");

    const js = await page("/sim/sim.js");
    expect(js.status).toBe(200);
    expect(js.type).toContain("javascript");
    expect(js.body).toContain('new EventSource("/sim/events")');
    expect(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/.test(js.body)).toBe(false);
    const css = await page("/sim/sim.css");
    expect(css.status).toBe(200);
    expect(css.type).toContain("text/css");

    const abort = new AbortController();
    const res = await fetch(`${t.simBase}/sim/events`, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = decoder.decode((await reader.read()).value);
    expect(seen).toContain(": connected");
    await postedRefund();
    while (!seen.includes("event: change")) seen += decoder.decode((await reader.read()).value);
    expect(seen).toMatch(/data: \{"type":"(message_posted|api_call)"\}/);
    abort.abort();
  });

  it("the Web API still answers on the same port, and / leads to /sim", async () => {
    t = await startTestDemo();
    const res = await fetch(`${t.simBase}/api/auth.test`, {
      method: "POST",
      headers: { authorization: "Bearer xoxb-demo-not-a-real-token" },
    });
    expect(await res.json()).toMatchObject({ ok: true, user_id: "UBOT" });
    const root = await fetch(`${t.simBase}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/sim");
    expect((await page("/nope")).status).toBe(404);
  });

  it("an XSS-y summary is rendered as text, in the HTML and in the live state", async () => {
    t = await startTestDemo();
    await postedRefund(XSS);
    const html = await page("/sim?channel=C0SUPPORT");
    expect(html.body).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html.body).not.toContain("<img");
    expect(html.body).not.toMatch(/onerror=alert\(1\)>/);

    const state = await t.sim("/sim/state?channel=C0SUPPORT&as=U0LEAD1");
    expect(state.status).toBe(200);
    expect(textOf(state.json.timeline as VNode)).toContain(XSS);
    // The agent's text is only ever a text node, never an element or an attribute.
    const tags = new Set<string>();
    const walk = (n: VNode) => {
      if (typeof n === "string") return;
      tags.add(n.t);
      for (const v of Object.values(n.a ?? {})) expect(v).not.toContain("onerror");
      for (const k of n.k ?? []) walk(k);
    };
    walk(state.json.timeline as VNode);
    expect(tags.has("img")).toBe(false);
  });

  it("a click on Approve is a signed block_actions: the request is approved by the clicker", async () => {
    t = await startTestDemo();
    const { id, ts } = await postedRefund();
    const click = await t.sim("/sim/click", {
      as: "U0LEAD1",
      channel: "C0SUPPORT",
      ts,
      actionId: "approve",
      value: id,
    });
    expect(click.json).toEqual({ appStatus: 200 });
    const done = await until(async () => {
      const r = await t!.api("GET", `/v1/requests/${id}`);
      return r.json.status === "approved" ? r.json : null;
    });
    expect(done.decisions[0].approver).toEqual({ slack_user_id: "U0LEAD1", name: "ana.alvarez" });
    await t.demo.slack.waitFor((s) => s.messages("C0SUPPORT")[0]!.updates > 0);
    const state = await t.sim("/sim/state?channel=C0SUPPORT&as=U0LEAD1");
    const text = textOf(state.json.timeline as VNode);
    expect(text).toContain("Approved by @ana.alvarez");
    expect(text).not.toContain("Reject");
  });

  it("an escalation DM is the manager's alone: in their sidebar and timeline, not in anyone else's", async () => {
    const clock = new FakeClock(Date.now());
    t = await startTestDemo({ clock });
    await postedRefund();
    clock.advance(61_000);
    await t.demo.service.sweepNow();
    const dm = await t.demo.slack.waitFor((s) =>
      s.channels().find((c) => c.kind === "dm" && c.user === "U0MANAGER" && s.messages(c.id).length > 0),
    );
    const as = async (viewer: string, channel: string) => {
      const state = await t!.sim(`/sim/state?channel=${channel}&as=${viewer}`);
      return { sidebar: textOf(state.json.sidebar as VNode), timeline: textOf(state.json.timeline as VNode) };
    };
    const manager = await as("U0MANAGER", dm.id);
    expect(manager.sidebar).toContain("Morgan Lee");
    expect(manager.timeline).toContain("Escalated to you");
    const lead = await as("U0LEAD1", dm.id);
    expect(lead.sidebar).not.toContain("Morgan Lee");
    expect(lead.timeline).not.toContain("Escalated to you");
    expect(lead.timeline).toContain("only Morgan Lee sees it");
  });

  it("the requester's click gets an ephemeral refusal that only the requester sees", async () => {
    t = await startTestDemo();
    const { id, ts } = await postedRefund();
    await t.sim("/sim/click", {
      as: "U0REQUESTER",
      channel: "C0SUPPORT",
      ts,
      actionId: "approve",
      value: id,
    });
    await t.demo.slack.waitFor((s) => s.ephemerals("C0SUPPORT", "U0REQUESTER")[0]);
    const mine = textOf((await t.sim("/sim/state?channel=C0SUPPORT&as=U0REQUESTER")).json.timeline);
    expect(mine).toContain("Only visible to you");
    expect(mine).toContain("you cannot approve it");
    const others = textOf((await t.sim("/sim/state?channel=C0SUPPORT&as=U0LEAD1")).json.timeline);
    expect(others).not.toContain("Only visible to you");
  });

  it("Reject opens the modal for the clicker; an empty reason is an inline error; a reason rejects", async () => {
    t = await startTestDemo();
    const { id, ts } = await postedRefund();
    await t.sim("/sim/click", { as: "U0LEAD2", channel: "C0SUPPORT", ts, actionId: "reject", value: id });
    const opened = await until(
      async () => (await t!.sim("/sim/state?channel=C0SUPPORT&as=U0LEAD2")).json.modal,
    );
    expect(textOf(opened)).toContain("Reject request");
    expect((await t.sim("/sim/state?channel=C0SUPPORT&as=U0LEAD1")).json.modal).toBeNull();
    const viewId = t.demo.slack.views[0]!.id;

    const empty = await t.sim("/sim/submit", {
      as: "U0LEAD2",
      viewId,
      values: { reason: { reason: "   " } },
    });
    expect(empty.json.errors).toEqual({ reason: "Please say why you are rejecting this request." });
    const withError = (await t.sim("/sim/state?channel=C0SUPPORT&as=U0LEAD2")).json;
    expect(textOf(withError.modal)).toContain("Please say why you are rejecting this request.");

    const ok = await t.sim("/sim/submit", {
      as: "U0LEAD2",
      viewId,
      values: { reason: { reason: "Customer already got a replacement" } },
    });
    expect(ok.json).toEqual({ appStatus: 200, errors: null });
    expect((await t.sim("/sim/state?channel=C0SUPPORT&as=U0LEAD2")).json.modal).toBeNull();
    const rejected = await t.api("GET", `/v1/requests/${id}`);
    expect(rejected.json).toMatchObject({ status: "rejected", resolution: "rejected_by_human" });
    expect(rejected.json.decisions[0].comment).toBe("Customer already got a replacement");
  });

  it("sample requests go through the real agent API; the GET link answers with the resource", async () => {
    t = await startTestDemo();
    const small = await t.sim("/sim/sample", { id: "small-refund" });
    expect(small.json).toMatchObject({
      status: 201,
      json: { status: "approved", resolution: "approved_by_policy" },
    });
    expect(small.json.curl).toContain(`/v1/requests/${small.json.json.id}`);
    const got = await t.sim(`/sim/requests/${small.json.json.id}?agent=support-bot`);
    expect(got).toMatchObject({ status: 200, json: { id: small.json.json.id, status: "approved" } });

    const deploy = await t.sim("/sim/sample", { id: "deploy" });
    expect(deploy.json).toMatchObject({
      agent: "deploy-bot",
      status: 201,
      json: { role: "sre", slack: { channel: "C0SREOPS" } },
    });
    const viaApi = await t.api("GET", `/v1/requests/${deploy.json.json.id}`, undefined, DEPLOY_TOKEN);
    expect(viaApi.json.status).toBe("pending");

    const large = await t.sim("/sim/sample", { id: "large-refund" });
    expect(large.json.json).toMatchObject({ role: "finance", approvals_required: 2 });
    const email = await t.sim("/sim/sample", { id: "email" });
    expect(email.json.json).toMatchObject({ action: "email.send", role: "support-lead" });
    const medium = await t.sim("/sim/sample", { id: "medium-refund" });
    expect(medium.json.json).toMatchObject({ policy: "medium-refunds", role: "support-lead" });

    // Every sample renders inside Block Kit's limits (the fake would answer invalid_blocks otherwise).
    await t.demo.slack.waitFor((s) => s.callsTo("chat.postMessage").length === 4);
    expect(t.demo.slack.callsTo("chat.postMessage").every((c) => c.response.ok)).toBe(true);
    expect((await t.sim("/sim/sample", { id: "nope" })).status).toBe(404);
  });

  it("malformed simulator requests are refused without touching countersign", async () => {
    t = await startTestDemo();
    expect(
      (
        await t.sim("/sim/click", {
          as: "nobody",
          channel: "C0SUPPORT",
          ts: "1.0",
          actionId: "approve",
          value: "x",
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await t.sim("/sim/click", {
          as: "U0LEAD1",
          channel: "C0SUPPORT",
          ts: "1.000100",
          actionId: "approve",
          value: "x",
        })
      ).status,
    ).toBe(404);
    expect((await t.sim("/sim/submit", { as: "U0LEAD1", viewId: "V404", values: {} })).status).toBe(404);
    // Only what start-up asks (auth.test, the user groups' member lists).
    expect(
      t.demo.slack.calls.filter((c) => c.method !== "auth.test" && c.method !== "usergroups.users.list"),
    ).toEqual([]);
  });
});

describe("npm start never runs the demo", () => {
  it("src/main.ts and src/service.ts import nothing from src/demo", () => {
    for (const file of ["src/main.ts", "src/service.ts"]) {
      expect(readFileSync(file, "utf8")).not.toMatch(/from\s+["'][^"']*demo/);
    }
  });
});

describe("the demo's callback receiver", () => {
  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${t!.simBase}${path}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    });

  it("a policy-approved sample with its callback → delivered, signature verified, listed on the page", async () => {
    t = await startTestDemo();
    const sent = await t.sim("/sim/sample", { id: "small-refund" });
    expect(sent.json.request.callback_url).toBe(`${t.simBase}/sim/callbacks/support-bot`);
    const id = sent.json.json.id as string;
    const state = await until(async () => {
      const s = await t!.sim("/sim/state");
      return JSON.stringify(s.json.callbacks).includes(id) ? s.json : null;
    });
    const text = textOf(state.callbacks as VNode);
    expect(text).toContain("✓ signature verified");
    expect(text).toContain("support-bot: approved (approved_by_policy)");
  });

  it("a forged or unsigned delivery → 400, listed as not verified, its body not trusted", async () => {
    t = await startTestDemo();
    const body = JSON.stringify({ type: "request.decided", data: { id: "req_forged", status: "approved" } });
    const now = String(Math.floor(Date.now() / 1000));
    const forged = await post("/sim/callbacks/support-bot", body, {
      "webhook-id": "msg_1",
      "webhook-timestamp": now,
      "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toEqual({ error: "callback not accepted: bad signature" });
    const unsigned = await post("/sim/callbacks/support-bot", body, {});
    expect(unsigned.status).toBe(400);
    const state = await t.sim("/sim/state");
    const text = textOf(state.json.callbacks as VNode);
    expect(text).toContain("✗ bad signature");
    expect(text).toContain("✗ missing headers");
    expect(text).not.toContain("req_forged");
  });
});
