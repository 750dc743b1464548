import { describe, expect, it } from "vitest";
import { renderBlocks } from "../../src/demo/page/blocks.ts";
import { type Names, renderMrkdwn } from "../../src/demo/page/mrkdwn.ts";
import { h, toHtml } from "../../src/demo/page/vnode.ts";

const names: Names = {
  user: (id) => ({ U0LEAD1: "ana.alvarez" })[id],
  usergroup: (id) => ({ S0ONCALL: "sre-oncall" })[id],
  channel: (id) => ({ C0SUPPORT: "support-approvals" })[id],
};
const html = (mrkdwn: string) => toHtml(renderMrkdwn(mrkdwn, names));

describe("mrkdwn as the simulator shows it", () => {
  it("bold, italic, strike and code; markers inside words stay literal", () => {
    expect(html("*bold* _italic_ ~gone~ `x < y`")).toBe(
      '<strong>bold</strong> <em>italic</em> <s>gone</s> <code class="cs-code">x &lt; y</code>',
    );
    expect(html("snake_case_name 2*3*4")).toBe("snake_case_name 2*3*4");
    expect(html("*Reason*\nbecause")).toBe("<strong>Reason</strong><br>because");
  });

  it("code blocks keep their text verbatim, entities decoded once", () => {
    expect(html("before\n```a *b* &lt;c&gt;\nd```\nafter")).toBe(
      'before<pre class="cs-pre">a *b* &lt;c&gt;\nd</pre>after',
    );
    expect(html("a ``` b")).toBe("a ``` b");
  });

  it("quotes, escaped or not, group consecutive lines", () => {
    expect(html("&gt; one\n> two\nthree")).toBe('<blockquote class="cs-quote">one<br>two</blockquote>three');
  });

  it("mentions, user groups, channels and broadcasts show names", () => {
    expect(html("<@U0LEAD1> <@U0OTHER> <!subteam^S0ONCALL> <#C0SUPPORT> <!here>")).toBe(
      [
        '<span class="cs-mention">@ana.alvarez</span>',
        '<span class="cs-mention">@U0OTHER</span>',
        '<span class="cs-mention">@sre-oncall</span>',
        '<span class="cs-mention">#support-approvals</span>',
        '<span class="cs-mention">@here</span>',
      ].join(" "),
    );
  });

  it("dates show their fallback (sim.js localises them), links their label; unsafe links stay text", () => {
    expect(html("<!date^1700000000^{date_short_pretty} at {time}|2023-11-14T22:13:20.000Z>")).toBe(
      '<time class="cs-date" datetime="2023-11-14T22:13:20.000Z" data-format="{date_short_pretty} at {time}">2023-11-14T22:13:20.000Z</time>',
    );
    expect(html("<https://shop.example.com/o?a=1&amp;b=2|Order>")).toBe(
      '<a href="https://shop.example.com/o?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">Order</a>',
    );
    expect(html("<javascript:alert(1)|click>")).toBe("<span>click</span>");
  });

  it("escaped agent text comes out as text, never markup", () => {
    const out = html("&lt;img src=x onerror=alert(1)&gt; &amp;lt;b&amp;gt;");
    expect(out).toBe("&lt;img src=x onerror=alert(1)&gt; &amp;lt;b&amp;gt;");
  });

  it(":emoji: codes the app uses become emoji", () => {
    expect(html(":rotating_light: Escalated :unknown_code:")).toBe(
      '<span class="cs-emoji" title=":rotating_light:">🚨</span> Escalated :unknown_code:',
    );
  });
});

describe("blocks as the simulator shows them", () => {
  it("header, fields in a grid, context, and styled buttons with their confirm dialog", () => {
    const out = toHtml(
      renderBlocks(
        [
          { type: "header", text: { type: "plain_text", text: "refund.issue" } },
          { type: "section", fields: [{ type: "mrkdwn", text: "*Agent*\nsupport-bot" }] },
          { type: "context", elements: [{ type: "mrkdwn", text: "Request `req_1`" }] },
          {
            type: "actions",
            block_id: "decision",
            elements: [
              {
                type: "button",
                action_id: "approve",
                style: "primary",
                value: "req_1",
                text: { type: "plain_text", text: "Approve" },
                confirm: {
                  title: { type: "plain_text", text: "Sure?" },
                  text: { type: "mrkdwn", text: "Runs *it*" },
                },
              },
              {
                type: "button",
                action_id: "reject",
                style: "danger",
                value: "req_1",
                text: { type: "plain_text", text: "Reject" },
              },
            ],
          },
          { type: "rich_text", elements: [] },
        ],
        { names },
      ),
    );
    expect(out).toContain('<div class="cs-header">refund.issue</div>');
    expect(out).toContain(
      '<div class="cs-fields"><div class="cs-field"><strong>Agent</strong><br>support-bot</div></div>',
    );
    expect(out).toContain(
      '<div class="cs-context"><span class="cs-context-item">Request <code class="cs-code">req_1</code></span></div>',
    );
    expect(out).toContain(
      '<button class="cs-btn cs-btn-primary" type="button" data-action-id="approve" data-value="req_1" data-block-id="decision" data-confirm="1">Approve</button><div class="cs-confirm" hidden="">',
    );
    expect(out).toContain('<button class="cs-btn cs-btn-danger" type="button" data-action-id="reject"');
    expect(out).toContain("[rich_text block: not shown by the simulator]");
  });

  it("a modal input shows its inline error", () => {
    const input = {
      type: "input",
      block_id: "reason",
      label: { type: "plain_text", text: "Reason" },
      element: { type: "plain_text_input", action_id: "reason", multiline: true },
    };
    const out = toHtml(renderBlocks([input], { names, errors: { reason: "Please say why" } }));
    expect(out).toContain('<textarea class="cs-field-input" id="input-reason-reason" name="reason/reason"');
    expect(out).toContain('<div class="cs-input-error" role="alert">Please say why</div>');
  });

  it("toHtml refuses attribute names that did not come from the renderer", () => {
    expect(() => toHtml(h("div", null, { onclick: "x" }))).toThrow(/not allowed/);
  });
});
