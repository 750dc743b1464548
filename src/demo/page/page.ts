import { escapeHtml, toHtml, type VNode } from "./vnode.ts";

/** The simulator's HTML page, every region rendered on the server; sim.js keeps it live. */

export interface PageParts {
  sidebar: VNode;
  header: VNode;
  timeline: VNode;
  modal: VNode | null;
  calls: VNode;
  callbacks: VNode;
  persona: VNode;
  samples: VNode;
  channel: string;
  viewer: string;
  apiBase: string;
  /** The config's redacted param keys, named in the panel's note. */
  redact: readonly string[];
}

export function renderPage(p: PageParts): string {
  const state = JSON.stringify({ channel: p.channel, viewer: p.viewer, apiBase: p.apiBase });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>countersign · simulated Slack</title>
<link rel="stylesheet" href="/sim/sim.css">
</head>
<body>
<div class="cs-app" id="app" data-state="${escapeHtml(state)}">
  <aside class="cs-sidebar" id="sidebar">${toHtml(p.sidebar)}</aside>
  <main class="cs-main">
    <header class="cs-topbar">
      <div id="channel-header" class="cs-topbar-channel">${toHtml(p.header)}</div>
      <label class="cs-as">You are ${toHtml(p.persona)}</label>
      <a class="cs-jump" href="#samples">Send a sample request ↓</a>
    </header>
    <section class="cs-timeline" id="timeline">${toHtml(p.timeline)}</section>
    <footer class="cs-composer">
      <form id="composer" class="cs-composer-form" autocomplete="off">
        <input id="composer-input" class="cs-composer-input" name="command" aria-label="Slash command" placeholder="Try /countersign (what waits for you) or /countersign req_… and press Enter">
      </form>
      <div class="cs-composer-note">Messages here come from countersign through the simulated Slack Web API. Buttons send signed <code>block_actions</code>, <code>/countersign</code> a signed slash command, the Home tab a signed <code>app_home_opened</code>, as Slack would.</div>
    </footer>
  </main>
  <aside class="cs-panel">
    <h2 id="samples">Send a sample request</h2>
    <p class="cs-panel-note">Each button is an agent calling <code>POST ${escapeHtml(p.apiBase)}/v1/requests</code> with its demo token.</p>
    <p class="cs-panel-note cs-redaction-note">Redaction: Slack messages show params named in <code>redact</code> (${escapeHtml(p.redact.join(", ") || "none configured")}) as [redacted]. This panel is the agent's own API view, where they stay in full, as they do in the database; text an agent writes (summary, reason, evidence) is never redacted.</p>
    ${toHtml(p.samples)}
    <div id="api-result" class="cs-api-result" hidden></div>
    <h2>Callbacks received</h2>
    <p class="cs-panel-note">The demo agents have callback secrets; the samples ask for a callback to this page, where each delivery's Standard Webhooks signature is checked.</p>
    <div id="callbacks">${toHtml(p.callbacks)}</div>
    <h2>Slack Web API calls</h2>
    <div id="calls">${toHtml(p.calls)}</div>
  </aside>
</div>
<div id="modal-root">${p.modal === null ? "" : toHtml(p.modal)}</div>
<div id="toast" class="cs-toast" role="status" hidden></div>
<script type="module" src="/sim/sim.js"></script>
</body>
</html>
`;
}
