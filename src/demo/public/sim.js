// countersign's simulated Slack: keeps the server-rendered page live.
// The server sends element trees ({t, c, a, k}); they are built here with
// createElement and text nodes only, never innerHTML, so nothing an agent wrote
// can become markup.

const ATTRIBUTE_NAME =
  /^(?:data-[a-z-]+|aria-[a-z]+|href|target|rel|title|datetime|type|name|placeholder|rows|maxlength|hidden|disabled|open|selected|checked|label|role|id|for|value|tabindex)$/;

const $ = (id) => document.getElementById(id);
const app = $("app");
const initial = JSON.parse(app.dataset.state);
let channel = initial.channel;
let viewer = initial.viewer;
let modalKey = document.querySelector("#modal-root .cs-modal") ? "initial" : null;
const seen = new Map();

function build(node) {
  if (typeof node === "string") return document.createTextNode(node);
  const el = document.createElement(node.t);
  if (node.c) el.className = node.c;
  for (const [name, value] of Object.entries(node.a || {})) {
    if (!ATTRIBUTE_NAME.test(name)) continue;
    if (name === "href" && !/^(?:https?:|mailto:|\?|#[a-z-]+$)/i.test(value)) continue;
    el.setAttribute(name, value);
  }
  for (const kid of node.k || []) el.appendChild(build(kid));
  return el;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- dates: <!date^…> and message times, shown in the reader's time zone like Slack does

function formatDate(date, format) {
  const now = new Date();
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const diffDays = Math.round((day(now) - day(date)) / 86_400_000);
  const pretty = (fallback) =>
    diffDays === 0 ? "today" : diffDays === 1 ? "yesterday" : diffDays === -1 ? "tomorrow" : fallback;
  const short = date.toLocaleDateString(undefined, { month: "short", day: "numeric", year: "numeric" });
  const long = date.toLocaleDateString(undefined, {
    weekday: "long",
    month: "long",
    day: "numeric",
    year: "numeric",
  });
  const medium = date.toLocaleDateString(undefined, { month: "long", day: "numeric", year: "numeric" });
  const tokens = {
    date_num: date.toISOString().slice(0, 10),
    date: medium,
    date_short: short,
    date_long: long,
    date_pretty: pretty(medium),
    date_short_pretty: pretty(short),
    date_long_pretty: pretty(long),
    time: date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" }),
    time_secs: date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit" }),
    ago: ago(now - date),
  };
  return format.replace(/\{(\w+)\}/g, (all, name) => tokens[name] ?? all);
}

function ago(ms) {
  const future = ms < 0;
  const s = Math.round(Math.abs(ms) / 1000);
  const [n, unit] =
    s < 60 ? [s, "second"] : s < 3600 ? [Math.round(s / 60), "minute"] : [Math.round(s / 3600), "hour"];
  const text = `${n} ${unit}${n === 1 ? "" : "s"}`;
  return future ? `in ${text}` : `${text} ago`;
}

function localizeDates(root) {
  for (const t of root.querySelectorAll("time[datetime]")) {
    const date = new Date(t.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    t.textContent = formatDate(date, t.dataset.format || "{date_short_pretty} at {time}");
    t.title = date.toLocaleString();
  }
}

// ---- applying server state

let firstPaint = true;
function markUnread() {
  for (const a of document.querySelectorAll("#sidebar .cs-chan")) {
    const id = a.dataset.channel;
    const count = Number(a.dataset.count);
    if (firstPaint || id === channel) seen.set(id, count);
    a.classList.toggle("cs-unread", count > (seen.get(id) ?? 0));
  }
  firstPaint = false;
}

function replaceRegion(id, node) {
  const target = $(id);
  target.replaceChildren(build(node));
  localizeDates(target);
}

function applyTimeline(node, forceBottom) {
  const box = $("timeline");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  const closed = new Set(
    [...box.querySelectorAll("details[data-thread]:not([open])")].map((d) => d.dataset.thread),
  );
  replaceRegion("timeline", node);
  for (const d of box.querySelectorAll("details[data-thread]"))
    if (closed.has(d.dataset.thread)) d.open = false;
  if (forceBottom || nearBottom) box.scrollTop = box.scrollHeight;
}

function applyModal(node, key) {
  if (key === modalKey) return;
  const root = $("modal-root");
  // What the person typed or chose survives a re-render (e.g. inline errors); a radio keeps its choice, not its value.
  const fields = [...root.querySelectorAll("[name]")];
  const typed = new Map(fields.filter((f) => f.type !== "radio").map((f) => [f.name, f.value]));
  const chosen = new Map(fields.filter((f) => f.type === "radio" && f.checked).map((f) => [f.name, f.value]));
  root.replaceChildren(...(node ? [build(node)] : []));
  for (const f of root.querySelectorAll("[name]")) {
    if (f.type === "radio") {
      if (chosen.has(f.name)) f.checked = f.value === chosen.get(f.name);
    } else if (typed.has(f.name)) f.value = typed.get(f.name);
  }
  if (node && modalKey === null) root.querySelector("textarea, input")?.focus();
  modalKey = key;
}

function apply(s, forceBottom = false) {
  replaceRegion("sidebar", s.sidebar);
  markUnread();
  replaceRegion("channel-header", s.header);
  applyTimeline(s.timeline, forceBottom);
  applyModal(s.modal, s.modalKey);
  replaceRegion("calls", s.calls);
  replaceRegion("callbacks", s.callbacks);
  followResult();
}

let timer = null;
let busy = false;
let again = false;
let forceNext = false;

function schedule(forceBottom = false) {
  forceNext = forceNext || forceBottom;
  clearTimeout(timer);
  timer = setTimeout(refresh, 30);
}

async function refresh() {
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  try {
    const res = await fetch(
      `/sim/state?channel=${encodeURIComponent(channel)}&as=${encodeURIComponent(viewer)}`,
    );
    if (res.ok) {
      const force = forceNext;
      forceNext = false;
      apply(await res.json(), force);
    }
  } catch {
    toast("The simulator is not answering; is the demo still running?");
  } finally {
    busy = false;
    if (again) {
      again = false;
      schedule();
    }
  }
}

function remember() {
  const url = new URL(location.href);
  url.searchParams.set("channel", channel);
  url.searchParams.set("as", viewer);
  history.replaceState(null, "", url);
}

// ---- talking to the simulator

async function post(path, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(json?.error ?? `HTTP ${res.status}`);
  return json;
}

let toastTimer = null;
function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 5000);
}

async function clickButton(button) {
  const msg = button.closest(".cs-msg");
  if (!msg || msg.dataset.ephemeral) return;
  button.disabled = true;
  try {
    const answer = await post("/sim/click", {
      as: viewer,
      channel: msg.dataset.channel,
      ts: msg.dataset.ts,
      actionId: button.dataset.actionId,
      value: button.dataset.value,
      blockId: button.dataset.blockId || undefined,
    });
    if (answer.appStatus !== 200) toast(`countersign answered the click with HTTP ${answer.appStatus}`);
  } catch (err) {
    toast(`Click failed: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

/** Slack's confirm dialog for buttons that carry a `confirm` object. */
function confirmFirst(button) {
  const spec = button.parentElement.querySelector(".cs-confirm");
  const dialog = el("div", "cs-modal cs-confirm-dialog");
  dialog.setAttribute("role", "alertdialog");
  for (const kid of spec.children) dialog.appendChild(kid.cloneNode(true));
  const backdrop = el("div", "cs-backdrop");
  backdrop.appendChild(dialog);
  document.body.appendChild(backdrop);
  dialog.querySelector('[data-confirm-answer="yes"]').focus();
  backdrop.addEventListener("click", (e) => {
    const answer = e.target.closest("[data-confirm-answer]")?.dataset.confirmAnswer;
    if (!answer && e.target !== backdrop) return;
    backdrop.remove();
    if (answer === "yes") void clickButton(button);
  });
}

// A Slack permalink (…/archives/<channel>/p<ts>) opens that channel here, like Slack's own links.
$("timeline").addEventListener("click", (e) => {
  const link = e.target.closest("a[href]");
  const match = link && /\/archives\/([A-Z0-9]+)\/p\d+$/.exec(link.getAttribute("href"));
  if (!match) return;
  e.preventDefault();
  channel = match[1];
  remember();
  schedule(true);
});

$("timeline").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-action-id]");
  if (!button || button.disabled) return;
  if (button.dataset.confirm) confirmFirst(button);
  else void clickButton(button);
});

$("modal-root").addEventListener("click", async (e) => {
  const what = e.target.closest("[data-modal]")?.dataset.modal;
  const modal = $("modal-root").querySelector(".cs-modal");
  if (!what || !modal) return;
  const viewId = modal.dataset.viewId;
  if (what === "close") {
    modalKey = null;
    $("modal-root").replaceChildren();
    post("/sim/close", { viewId }).catch((err) => toast(err.message));
    return;
  }
  const values = {};
  for (const f of modal.querySelectorAll("[data-block-id][data-action-id][name]")) {
    if (f.type === "radio" && !f.checked) continue;
    values[f.dataset.blockId] ??= {};
    values[f.dataset.blockId][f.dataset.actionId] = f.value;
  }
  e.target.disabled = true;
  try {
    const answer = await post("/sim/submit", { as: viewer, viewId, values });
    if (answer.appStatus !== 200) toast(`countersign answered the submission with HTTP ${answer.appStatus}`);
  } catch (err) {
    toast(`Submit failed: ${err.message}`);
  } finally {
    e.target.disabled = false;
    schedule();
  }
});

// Opening the Home tab is an app_home_opened event for the person you are; countersign publishes the view.
function openHome() {
  if (channel !== "HOME") return;
  post("/sim/home", { as: viewer })
    .then(() => schedule())
    .catch((err) => toast(`Home tab failed: ${err.message}`));
}

$("sidebar").addEventListener("click", (e) => {
  const a = e.target.closest("a[data-channel]");
  if (!a) return;
  e.preventDefault();
  channel = a.dataset.channel;
  remember();
  schedule(true);
  openHome();
});

$("persona").addEventListener("change", (e) => {
  viewer = e.target.value;
  modalKey = "changed";
  remember();
  schedule();
  openHome();
});

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $("composer-input");
  const text = input.value.trim();
  if (text === "") return;
  if (channel === "HOME") {
    toast("Slash commands run in a channel or DM: pick one on the left first.");
    return;
  }
  if (!text.startsWith("/countersign")) {
    toast("Only /countersign is simulated here (messages are not): try /countersign or /countersign req_…");
    return;
  }
  input.disabled = true;
  try {
    const answer = await post("/sim/command", { as: viewer, channel, text });
    if (answer.appStatus !== 200) toast(`countersign answered the command with HTTP ${answer.appStatus}`);
    input.value = "";
    schedule(true);
  } catch (err) {
    toast(`Command failed: ${err.message}`);
  } finally {
    input.disabled = false;
    input.focus();
  }
});

// The request shown in the result box, followed live until it is decided.
let shown = null;

function followResult() {
  if (!shown || shown.busy || shown.final) return;
  const { id, answer } = shown;
  shown.busy = true;
  fetch(`/sim/requests/${encodeURIComponent(id)}?agent=${encodeURIComponent(answer.agent)}`)
    .then(async (res) => {
      const json = await res.json();
      if (shown?.id !== id) return;
      if (JSON.stringify(json) !== JSON.stringify(shown.json)) {
        showResult({ ...answer, method: "GET", path: `/v1/requests/${id}`, status: res.status, json });
      }
    })
    .catch(() => {})
    .finally(() => {
      if (shown?.id === id) shown.busy = false;
    });
}

function showResult(answer) {
  const box = $("api-result");
  const ok = answer.status >= 200 && answer.status < 300;
  const head = el("div", `cs-result-head ${ok ? "cs-ok" : "cs-bad"}`);
  head.append(
    el("code", null, `${answer.method} ${answer.path}`),
    el("span", "cs-status", String(answer.status)),
  );
  const parts = [head];
  const r = answer.json;
  if (r && typeof r === "object" && r.id) {
    const summary = el("div", "cs-result-summary");
    summary.append(
      el("strong", "cs-result-status", r.status),
      ` · policy ${r.policy}${r.role ? ` → role ${r.role}` : ""}`,
    );
    if (r.resolution) summary.append(` · ${r.resolution}`);
    const link = el("a", "cs-result-link", `GET /v1/requests/${r.id}`);
    link.href = `/sim/requests/${encodeURIComponent(r.id)}?agent=${encodeURIComponent(answer.agent)}`;
    link.target = "_blank";
    link.rel = "noopener";
    link.title = "Fetch it again through the agent API (ctrl-click: open the JSON)";
    link.addEventListener("click", (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey) return;
      e.preventDefault();
      void fetchAgain(link.href, r.id, answer);
    });
    parts.push(summary, link);
  }
  if (answer.curl) {
    const curl = el("details", "cs-curl");
    curl.append(el("summary", null, "curl it (long-polls up to 30 s)"), el("pre", "cs-pre", answer.curl));
    parts.push(curl);
  }
  parts.push(el("pre", "cs-pre cs-json", JSON.stringify(answer.json, null, 2)));
  box.replaceChildren(...parts);
  box.hidden = false;
  shown =
    r && typeof r === "object" && r.id
      ? { id: r.id, answer, json: r, busy: false, final: r.status !== "pending" }
      : null;
  box.dataset.status = r?.status ?? "";
}

async function fetchAgain(href, id, previous) {
  try {
    const res = await fetch(href);
    showResult({
      ...previous,
      method: "GET",
      path: `/v1/requests/${id}`,
      status: res.status,
      json: await res.json(),
    });
  } catch (err) {
    toast(`GET failed: ${err.message}`);
  }
}

document.querySelector(".cs-samples").addEventListener("click", async (e) => {
  const button = e.target.closest("button[data-sample]");
  if (!button) return;
  button.disabled = true;
  try {
    const answer = await post("/sim/sample", { id: button.dataset.sample });
    showResult(answer);
    const target = answer.json?.slack?.channel;
    if (target && target !== channel) {
      channel = target;
      remember();
    }
    schedule(true);
  } catch (err) {
    toast(`Sample failed: ${err.message}`);
  } finally {
    button.disabled = false;
  }
});

// ---- live updates

const events = new EventSource("/sim/events");
events.addEventListener("change", () => schedule());
events.addEventListener("open", () => {
  app.classList.remove("cs-offline");
  schedule();
});
events.addEventListener("error", () => app.classList.add("cs-offline"));

markUnread();
openHome();
localizeDates(document);
$("timeline").scrollTop = $("timeline").scrollHeight;
app.classList.add("cs-live");
