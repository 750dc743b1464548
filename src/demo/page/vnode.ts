/**
 * A tiny element tree: the server renders Slack's blocks into it once, then either
 * serialises it to escaped HTML (the first page load) or sends it as JSON for the
 * browser to build with createElement/textContent. Untrusted text is only ever a
 * text node; tag and attribute names only ever come from this code.
 */

export type VElement = { t: string; c?: string; a?: Record<string, string>; k?: VNode[] };
/** A string is a text node. */
export type VNode = string | VElement;

/** Attribute names the browser side accepts too (sim.js keeps the same list). */
export const ATTRIBUTE_NAME =
  /^(?:data-[a-z-]+|aria-[a-z]+|href|target|rel|title|datetime|type|name|placeholder|rows|maxlength|hidden|disabled|open|selected|checked|label|role|id|for|value|tabindex)$/;

export function h(t: string, c?: string | null, a?: Record<string, string> | null, k?: VNode[]): VElement {
  const el: VElement = { t };
  if (c) el.c = c;
  if (a && Object.keys(a).length > 0) el.a = a;
  if (k && k.length > 0) el.k = k;
  return el;
}

/** An `<a>` only for web and mail links; anything else (javascript:, data:…) stays text. */
export function link(href: string, kids: VNode[]): VNode {
  if (!/^(?:https?:|mailto:)/i.test(href)) return h("span", null, null, kids);
  return h("a", null, { href, target: "_blank", rel: "noopener noreferrer" }, kids);
}

const TEXT_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => TEXT_ESCAPES[c] ?? c);

const VOID = new Set(["br", "hr", "input", "img"]);
const TAG = /^[a-z][a-z0-9]*$/;

export function toHtml(node: VNode | VNode[]): string {
  if (Array.isArray(node)) return node.map(toHtml).join("");
  if (typeof node === "string") return escapeHtml(node);
  if (!TAG.test(node.t)) throw new Error(`bad tag ${node.t}`);
  let attrs = node.c ? ` class="${escapeHtml(node.c)}"` : "";
  for (const [name, value] of Object.entries(node.a ?? {})) {
    if (!ATTRIBUTE_NAME.test(name)) throw new Error(`attribute ${name} is not allowed`);
    attrs += ` ${name}="${escapeHtml(value)}"`;
  }
  if (VOID.has(node.t)) return `<${node.t}${attrs}>`;
  return `<${node.t}${attrs}>${toHtml(node.k ?? [])}</${node.t}>`;
}

/** The text a person would read, for tests and fallbacks. */
export function textOf(node: VNode | VNode[]): string {
  if (Array.isArray(node)) return node.map(textOf).join("");
  return typeof node === "string" ? node : textOf(node.k ?? []);
}
