import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../support/clock.ts";
import { DEPLOY_TOKEN, startTestDemo, type TestDemo, until } from "./support.ts";

/**
 * The demo in a real browser: a person sends sample requests, picks who they
 * are, clicks Approve / Reject, and sees what Slack would show them.
 */

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SCREENSHOTS = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));

if (!HAVE_CHROMIUM && process.env.CI === "true") {
  describe("browser test prerequisites", () => {
    it("has Chromium at /usr/bin/chromium", () => {
      throw new Error(
        `${CHROMIUM} is missing: install it (apt-get update && apt-get install -y chromium) to run test/demo/browser.test.ts`,
      );
    });
  });
}

describe.skipIf(!HAVE_CHROMIUM)("the simulator in a browser", () => {
  let browser: Browser;
  let t: TestDemo | undefined;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await page?.close();
    await t?.stop();
    t = undefined;
    expect(pageErrors).toEqual([]);
  });

  async function open(opts: { clock?: FakeClock; height?: number } = {}): Promise<Page> {
    t = await startTestDemo(opts.clock ? { clock: opts.clock } : {});
    page = await browser.newPage({ viewport: { width: 1440, height: opts.height ?? 900 } });
    pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("dialog", (d) => {
      pageErrors.push(`unexpected dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(t.demo.simUrl);
    await page.locator(".cs-app.cs-live").waitFor();
    return page;
  }

  /**
   * docs/screenshots/<name>, written when missing or with UPDATE_SCREENSHOTS=1 so that a
   * test run does not churn the checked-in images. Taken away from the mouse's hover highlight.
   */
  async function screenshot(name: string): Promise<void> {
    await page.mouse.move(1, 1);
    const path = `${SCREENSHOTS}${name}`;
    if (existsSync(path) && !process.env.UPDATE_SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path });
  }

  const message = (text: string) => page.locator("#timeline .cs-msg", { hasText: text }).first();

  async function sendSample(id: string): Promise<{ id: string; status: number }> {
    const answer = page.waitForResponse((r) => r.url().endsWith("/sim/sample"));
    await page.click(`button[data-sample="${id}"]`);
    const json = await (await answer).json();
    return { id: json.json.id, status: json.status };
  }

  it("medium refund → evidence pack in #support-approvals → an approver approves → message updated, API approved", async () => {
    await open({ height: 1000 });
    await page.selectOption("#persona", "U0LEAD1");
    const sent = await sendSample("medium-refund");
    expect(sent.status).toBe(201);
    await expect.poll(() => page.locator("#api-result").getAttribute("data-status")).toBe("pending");
    await expect.poll(() => page.locator("#channel-header").textContent()).toContain("support-approvals");

    const pack = message("Refund $120 to Dana Ruiz");
    await pack.waitFor();
    const text = await pack.textContent();
    for (const part of [
      "refund.issue",
      "support-bot",
      "order #48213",
      "medium · 62/100",
      "@riley.chen",
      "Customer message",
      "Proposed reply",
      sent.id,
    ]) {
      expect(text).toContain(part);
    }
    expect(await pack.locator(".cs-fields .cs-field").count()).toBeGreaterThanOrEqual(4);
    expect(await pack.locator("button.cs-btn-primary").textContent()).toBe("Approve");
    expect(await pack.locator("button.cs-btn-danger").textContent()).toBe("Reject");
    await screenshot("evidence-pack.png");

    await pack.locator('button[data-action-id="approve"]').click();
    await message("Approved by @ana.alvarez").waitFor();
    // The panel follows the request live: no stale "pending" once it is approved.
    await expect.poll(() => page.locator("#api-result .cs-result-status").textContent()).toBe("approved");
    // The decision's callback reached the demo's receiver, signature verified.
    const delivery = page.locator(`#callbacks .cs-callback[data-request="${sent.id}"]`);
    await delivery.waitFor();
    expect(await delivery.getAttribute("data-check")).toBe("verified");
    expect(await delivery.textContent()).toContain("✓ signature verified");
    expect(await delivery.textContent()).toContain("request.decided");
    expect(await delivery.textContent()).toContain("approved (approved_by_humans)");
    expect(await message("Refund $120 to Dana Ruiz").locator("button").count()).toBe(0);
    expect(await message("Refund $120 to Dana Ruiz").textContent()).toContain("(edited)");
    await screenshot("approved.png");

    const got = await t!.api("GET", `/v1/requests/${sent.id}`);
    expect(got.json).toMatchObject({ status: "approved", resolution: "approved_by_humans" });
    expect(got.json.decisions[0].approver).toEqual({ slack_user_id: "U0LEAD1", name: "ana.alvarez" });

    // The panel's GET link asks the agent API again and shows the decision.
    await page.click("#api-result .cs-result-link");
    await expect
      .poll(() => page.locator("#api-result .cs-result-head").textContent())
      .toContain("GET /v1/requests/");
    expect(await page.locator("#api-result .cs-result-summary").textContent()).toContain("approved");
    expect(await page.locator("#api-result .cs-json").textContent()).toContain('"slack_user_id": "U0LEAD1"');
  });

  it("a stranger clicks Approve → an ephemeral refusal only they see; nothing changes", async () => {
    await open();
    await sendSample("medium-refund");
    const pack = message("Refund $120 to Dana Ruiz");
    await pack.waitFor();
    await page.selectOption("#persona", "U0STRANGER");
    await pack.locator('button[data-action-id="approve"]').click();
    const refusal = page.locator("#timeline .cs-ephemeral");
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("Only visible to you");
    expect(await refusal.textContent()).toContain("You are not an approver for role support-lead");
    expect(await pack.locator("button").count()).toBe(3);

    await page.selectOption("#persona", "U0LEAD1");
    await expect.poll(() => page.locator("#timeline .cs-ephemeral").count()).toBe(0);
  });

  it("Reject → modal with a reason; an empty reason is an inline error; the reason rejects the request", async () => {
    await open();
    const sent = await sendSample("medium-refund");
    const pack = message("Refund $120 to Dana Ruiz");
    await pack.waitFor();
    await page.selectOption("#persona", "U0LEAD2");
    await pack.locator('button[data-action-id="reject"]').click();

    const modal = page.locator("#modal-root .cs-modal");
    await modal.waitFor();
    expect(await modal.locator(".cs-modal-title").textContent()).toBe("Reject request");
    await modal.locator("textarea").fill("Replacement already shipped; no refund needed");
    await screenshot("reject-modal.png");
    await modal.locator("textarea").fill("");
    await modal.locator('[data-modal="submit"]').click();
    await expect
      .poll(() => modal.locator(".cs-input-error").textContent())
      .toBe("Please say why you are rejecting this request.");

    await modal.locator("textarea").fill("Replacement already shipped; no refund needed");
    await modal.locator('[data-modal="submit"]').click();
    await page.locator("#modal-root .cs-modal").waitFor({ state: "detached" });
    await message("Rejected by @ben.okafor").waitFor();
    expect(await message("Rejected by @ben.okafor").textContent()).toContain(
      "Replacement already shipped; no refund needed",
    );

    const got = await t!.api("GET", `/v1/requests/${sent.id}`);
    expect(got.json).toMatchObject({ status: "rejected", resolution: "rejected_by_human" });
    expect(got.json.decisions[0].comment).toBe("Replacement already shipped; no refund needed");
  });

  it("Edit & approve → modal with the params as JSON; invalid JSON is an inline error; the edit approves the changed params", async () => {
    await open({ height: 1000 });
    const sent = await sendSample("medium-refund");
    const pack = message("Refund $120 to Dana Ruiz");
    await pack.waitFor();
    await page.selectOption("#persona", "U0LEAD1");
    await pack.locator('button[data-action-id="edit"]').click();

    const modal = page.locator("#modal-root .cs-modal");
    await modal.waitFor();
    expect(await modal.locator(".cs-modal-title").textContent()).toBe("Edit & approve");
    const editor = modal.locator("textarea");
    expect(JSON.parse(await editor.inputValue())).toMatchObject({ amount: 120, currency: "USD" });
    await editor.fill("{ amount: 100");
    await modal.locator('[data-modal="submit"]').click();
    await expect.poll(() => modal.locator(".cs-input-error").textContent()).toContain("not valid JSON");

    await editor.fill(
      JSON.stringify(
        { amount: 100, currency: "USD", order_id: "48213", method: "original_payment" },
        null,
        2,
      ),
    );
    await screenshot("edit-modal.png");
    await modal.locator('[data-modal="submit"]').click();
    await page.locator("#modal-root .cs-modal").waitFor({ state: "detached" });
    await message("Approved with edits by @ana.alvarez").waitFor();
    const text = await message("Approved with edits by @ana.alvarez").textContent();
    expect(text).toContain("amount: 120 → 100");
    expect(await message("Approved with edits by @ana.alvarez").locator("button").count()).toBe(0);

    const got = await t!.api("GET", `/v1/requests/${sent.id}`);
    expect(got.json).toMatchObject({
      status: "approved",
      approved_params: { amount: 100 },
      edited_by: "U0LEAD1",
    });
    expect(got.json.approved_args_hash).not.toBe(got.json.args_hash);
  });

  it("Reject → Request changes with a comment → rejected / changes_requested, the message says so", async () => {
    await open();
    const sent = await sendSample("medium-refund");
    const pack = message("Refund $120 to Dana Ruiz");
    await pack.waitFor();
    await page.selectOption("#persona", "U0LEAD2");
    await pack.locator('button[data-action-id="reject"]').click();
    const modal = page.locator("#modal-root .cs-modal");
    await modal.waitFor();
    expect(await modal.locator('input[type="radio"][value="reject"]').isChecked()).toBe(true);
    await modal.locator('input[type="radio"][value="request_changes"]').check();
    await modal.locator("textarea").fill("Refund $100 only; shipping is not refundable");
    await modal.locator('[data-modal="submit"]').click();
    await page.locator("#modal-root .cs-modal").waitFor({ state: "detached" });
    await message("Changes requested by @ben.okafor").waitFor();
    expect(await message("Changes requested by @ben.okafor").textContent()).toContain(
      "shipping is not refundable",
    );

    const got = await t!.api("GET", `/v1/requests/${sent.id}`);
    expect(got.json).toMatchObject({ status: "rejected", resolution: "changes_requested" });
  });

  it("a production deploy asks to confirm Approve, like Slack's confirm dialog", async () => {
    await open();
    await page.selectOption("#persona", "U0SRE1");
    const sent = await sendSample("deploy");
    await expect.poll(() => page.locator("#channel-header").textContent()).toContain("sre-approvals");
    const pack = message("Deploy checkout-service v2.14.0 to production");
    await pack.waitFor();
    await pack.locator('button[data-action-id="approve"]').click();
    const dialog = page.locator(".cs-confirm-dialog");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("Approve this request?");
    await dialog.locator('[data-confirm-answer="yes"]').click();
    await message("Approved by @sam.ito").waitFor();
    const got = await t!.api("GET", `/v1/requests/${sent.id}`, undefined, DEPLOY_TOKEN);
    expect(got.json.status).toBe("approved");
  });

  it("escalation: the manager's DM appears in the sidebar with the buttons; the channel gets a thread reply", async () => {
    const clock = new FakeClock(Date.now());
    await open({ clock });
    await sendSample("medium-refund");
    await message("Refund $120 to Dana Ruiz").waitFor();
    clock.advance(61_000);
    await t!.demo.service.sweepNow();
    await page.locator("#timeline .cs-thread-summary", { hasText: /^\d+ repl/ }).waitFor();
    expect(await page.locator("#timeline .cs-thread").textContent()).toContain("Escalated to @morgan.lee");
    // The DM is the manager's: nobody else has it in their sidebar.
    expect(await page.locator("#sidebar").textContent()).not.toContain("Morgan Lee");
    // Every Slack call re-renders the page: let the outbox finish before touching the DOM.
    await expect.poll(() => t!.demo.service.deps.store.outboxDepth()).toBe(0);
    await page.locator("#timeline .cs-thread").scrollIntoViewIfNeeded();
    // The timeline is re-rendered as updates arrive: retry when the element was replaced mid-scroll.
    await expect
      .poll(() =>
        page
          .locator("#timeline .cs-thread")
          .scrollIntoViewIfNeeded({ timeout: 500 })
          .then(() => true)
          .catch(() => false),
      )
      .toBe(true);
    await screenshot("escalated.png");

    await page.selectOption("#persona", "U0MANAGER");
    await expect.poll(() => page.locator("#sidebar").textContent()).toContain("Morgan Lee");
    await page.locator("#sidebar a", { hasText: "Morgan Lee" }).click();
    await expect.poll(() => page.locator("#channel-header").textContent()).toContain("Direct message");
    // Slack heads a DM with an app by the app's name.
    expect(await page.locator("#channel-header .cs-chan-title").textContent()).toBe("countersign APP");
    const dm = message("Refund $120 to Dana Ruiz");
    // The DM says why it came and links to the channel message, which opens that channel.
    expect(await dm.textContent()).toContain(
      "Escalated to you: nobody in role support-lead decided within 1m",
    );
    await dm.locator("a", { hasText: "Open the channel message" }).click();
    await expect.poll(() => page.locator("#channel-header").textContent()).toContain("support-approvals");
    await page.locator("#sidebar a", { hasText: "Morgan Lee" }).click();
    await expect.poll(() => page.locator("#channel-header").textContent()).toContain("Direct message");
    await dm.locator('button[data-action-id="approve"]').click();
    await message("Approved by @morgan.lee").waitFor();
  });

  it("the Home tab and /countersign: each person sees what waits for them", async () => {
    await open();
    await page.selectOption("#persona", "U0LEAD1");
    const sent = await sendSample("medium-refund");
    await message("Refund $120 to Dana Ruiz").waitFor();

    await page.locator("#sidebar a", { hasText: "countersign · Home" }).click();
    await expect.poll(() => page.locator("#timeline").textContent()).toContain("Waiting for your decision");
    expect(await page.locator("#timeline").textContent()).toContain(sent.id);
    expect(await page.locator("#channel-header .cs-chan-title").textContent()).toBe("countersign APP");
    await page.selectOption("#persona", "U0STRANGER");
    await expect
      .poll(() => page.locator("#timeline").textContent())
      .toContain("Nothing is waiting for your decision.");

    await page.selectOption("#persona", "U0LEAD1");
    await page.locator("#sidebar a", { hasText: "support-approvals" }).click();
    await expect.poll(() => page.locator("#channel-header").textContent()).toContain("support-approvals");
    await page.fill("#composer-input", `/countersign ${sent.id}`);
    await page.press("#composer-input", "Enter");
    const answer = page.locator("#timeline .cs-ephemeral", { hasText: "Status:" });
    await answer.waitFor();
    expect(await answer.textContent()).toContain("Only visible to you");
    expect(await answer.textContent()).toContain(sent.id);
    expect(await answer.textContent()).toContain("Status: pending");
    expect(await page.inputValue("#composer-input")).toBe("");
  });

  it("agent text with markup stays text in the browser", async () => {
    await open();
    const created = await t!.api("POST", "/v1/requests", {
      action: "refund.issue",
      summary: "<img src=x onerror=alert(1)> <script>alert(2)</script>",
      params: { amount: 120 },
      evidence: [{ title: "<b>bold?</b>", text: "<a href='javascript:alert(3)'>x</a>" }],
    });
    expect(created.status).toBe(201);
    const pack = message("<img src=x onerror=alert(1)>");
    await pack.waitFor();
    expect(await pack.textContent()).toContain("<script>alert(2)</script>");
    expect(await pack.textContent()).toContain("<b>bold?</b>");
    expect(await page.locator("#timeline img, #timeline script, #timeline b").count()).toBe(0);
    expect(await page.locator('#timeline a[href^="javascript"]').count()).toBe(0);
    await until(() => pageErrors.length === 0);
  });

  /** Elements under `selector` whose content is wider than their box (something sticks out or is cut). */
  // Run in the page (the tests are typechecked without the DOM library, hence source text).
  const overflowing = (selector: string): Promise<string[]> =>
    page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})]
      .filter((e) => e.scrollWidth > e.clientWidth + 1)
      .map((e) => e.tagName + "." + e.className)`);

  it("long ids wrap inside their card; the persona dropdown shows whole labels", async () => {
    await open();
    await sendSample("small-refund");
    await page.locator("#callbacks .cs-callback").waitFor();
    expect(
      await overflowing(".cs-panel, .cs-api-result, .cs-api-result *:not(.cs-json), #callbacks *"),
    ).toEqual([]);
    // The status badge next to a long path (GET /v1/requests/req_…) stays on one line.
    await page.click("#api-result .cs-result-link");
    await expect
      .poll(() => page.locator("#api-result .cs-result-head").textContent())
      .toContain("GET /v1/requests/");
    expect(await overflowing(".cs-panel, .cs-api-result, .cs-api-result *:not(.cs-json)")).toEqual([]);
    const badge = await page.locator("#api-result .cs-status").boundingBox();
    expect(badge!.height).toBeLessThan(30);
    // The select must be as wide as its longest label plus its own padding and arrow.
    const cut = await page.evaluate(`(() => {
      const select = document.querySelector("#persona");
      const probe = document.createElement("span");
      probe.style.font = getComputedStyle(select).font;
      probe.style.whiteSpace = "nowrap";
      document.body.append(probe);
      const widths = [...select.options].map((o) => {
        probe.textContent = o.label;
        return probe.getBoundingClientRect().width;
      });
      probe.remove();
      return Math.max(...widths) > select.clientWidth - 16;
    })()`);
    expect(cut).toBe(false);
  });

  it("a narrow window (1000 px): the sample panel is reachable from the top and the hint says where it is", async () => {
    t = await startTestDemo();
    page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(t.demo.simUrl);
    await page.locator(".cs-app.cs-live").waitFor();
    const hint = await page.locator("#timeline .cs-empty").textContent();
    expect(hint).not.toMatch(/right|→/);
    expect(await page.locator(".cs-jump").isVisible()).toBe(true);
    await page.click(".cs-jump");
    await expect.poll(() => page.locator('button[data-sample="medium-refund"]').isVisible()).toBe(true);
    const box = await page.locator('button[data-sample="medium-refund"]').boundingBox();
    expect(box && box.y >= 0 && box.y < 700 && box.x + box.width <= 1000).toBe(true);
    await page.click('button[data-sample="medium-refund"]');
    await page.locator("#timeline .cs-msg").first().waitFor();
    expect(await overflowing(".cs-panel, .cs-api-result")).toEqual([]);
  });
});
