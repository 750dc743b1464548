import { type Names, renderMrkdwn, renderPlain } from "./mrkdwn.ts";
import { h, type VNode } from "./vnode.ts";

/**
 * Block Kit → element tree, laid out like Slack: header, section text and
 * two-column fields, context in small grey text, actions as buttons (with any
 * confirm dialog carried along, hidden), dividers and modal inputs.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

export interface BlockOptions {
  names: Names;
  /** Inline errors of a modal, by input block_id (`response_action: errors`). */
  errors?: Record<string, string>;
}

/** A text object: mrkdwn is parsed, plain_text only gets its :emoji: codes. */
export function textObject(v: unknown, names: Names): VNode[] {
  if (!isObject(v)) return [];
  if (v.type === "mrkdwn") return renderMrkdwn(str(v.text), names);
  return renderPlain(str(v.text), v.emoji !== false);
}

export function renderBlocks(blocks: readonly unknown[], opts: BlockOptions): VNode[] {
  return blocks.map((b) => renderBlock(b, opts));
}

function renderBlock(b: unknown, opts: BlockOptions): VNode {
  if (!isObject(b)) return unsupported("?");
  const { names } = opts;
  const id = str(b.block_id);
  const attrs = id === "" ? null : { "data-block-id": id };
  switch (b.type) {
    case "header":
      return h("div", "cs-header", attrs, textObject(b.text, names));
    case "section": {
      const kids: VNode[] = [];
      if (b.text !== undefined) kids.push(h("div", "cs-text", null, textObject(b.text, names)));
      if (Array.isArray(b.fields)) {
        kids.push(
          h(
            "div",
            "cs-fields",
            null,
            b.fields.map((f) => h("div", "cs-field", null, textObject(f, names))),
          ),
        );
      }
      if (b.accessory !== undefined) kids.push(h("div", "cs-accessory", null, [element(b.accessory, opts)]));
      return h("div", "cs-section", attrs, kids);
    }
    case "context": {
      const elements = Array.isArray(b.elements) ? b.elements : [];
      return h(
        "div",
        "cs-context",
        attrs,
        elements.map((el) =>
          isObject(el) && el.type === "image"
            ? h("span", "cs-context-image", { title: str(el.alt_text) }, ["▪"])
            : h("span", "cs-context-item", null, textObject(el, names)),
        ),
      );
    }
    case "actions": {
      const elements = Array.isArray(b.elements) ? b.elements : [];
      return h(
        "div",
        "cs-actions",
        attrs,
        elements.map((el) => element(el, opts, id)),
      );
    }
    case "divider":
      return h("hr", "cs-divider");
    case "input":
      return input(b, opts);
    case "markdown":
      return h("div", "cs-text", attrs, renderMrkdwn(str(b.text), names));
    case "image":
      return h("div", "cs-image", attrs, [`🖼 ${str(b.alt_text) || "image"}`]);
    default:
      return unsupported(str(b.type));
  }
}

function unsupported(type: string): VNode {
  return h("div", "cs-unsupported", null, [`[${type} block: not shown by the simulator]`]);
}

/** Interactive elements; only buttons do anything in the simulator. */
function element(el: unknown, opts: BlockOptions, blockId = ""): VNode {
  if (!isObject(el)) return "";
  if (el.type !== "button") {
    return h("button", "cs-btn", { type: "button", disabled: "", title: "not simulated" }, [str(el.type)]);
  }
  const style = el.style === "primary" || el.style === "danger" ? el.style : "default";
  const attrs: Record<string, string> = {
    type: "button",
    "data-action-id": str(el.action_id),
    "data-value": str(el.value),
    "data-block-id": blockId,
  };
  if (typeof el.url === "string") attrs.title = el.url;
  const kids: VNode[] = [h("button", `cs-btn cs-btn-${style}`, attrs, textObject(el.text, opts.names))];
  if (isObject(el.confirm)) {
    attrs["data-confirm"] = "1";
    kids.push(confirmSpec(el.confirm, el.style === "danger" ? "danger" : "primary", opts.names));
  }
  return h("span", "cs-btn-wrap", null, kids);
}

/** A button's confirm dialog, hidden until the button is clicked (sim.js shows it). */
function confirmSpec(c: Json, style: string, names: Names): VNode {
  const title = c.title === undefined ? ["Are you sure?"] : textObject(c.title, names);
  const yes = c.confirm === undefined ? ["Yes"] : textObject(c.confirm, names);
  const no = c.deny === undefined ? ["Cancel"] : textObject(c.deny, names);
  return h("div", "cs-confirm", { hidden: "" }, [
    h("div", "cs-modal-title", null, title),
    h("div", "cs-text", null, textObject(c.text, names)),
    h("div", "cs-modal-footer", null, [
      h("button", "cs-btn cs-btn-default", { type: "button", "data-confirm-answer": "no" }, no),
      h("button", `cs-btn cs-btn-${style}`, { type: "button", "data-confirm-answer": "yes" }, yes),
    ]),
  ]);
}

/** Radio buttons: one checked input per option; sim.js submits the checked one's value. */
function radios(el: Json, blockId: string, actionId: string, opts: BlockOptions): VNode {
  const initial = isObject(el.initial_option) ? str(el.initial_option.value) : "";
  const options = Array.isArray(el.options) ? el.options.filter(isObject) : [];
  return h(
    "div",
    "cs-radios",
    { role: "radiogroup" },
    options.map((o) => {
      const value = str(o.value);
      const attrs: Record<string, string> = {
        type: "radio",
        name: `${blockId}/${actionId}`,
        value,
        "data-block-id": blockId,
        "data-action-id": actionId,
      };
      if (value === initial) attrs.checked = "";
      const kids: VNode[] = [
        h("input", null, attrs),
        h("span", "cs-radio-text", null, textObject(o.text, opts.names)),
      ];
      if (isObject(o.description))
        kids.push(h("span", "cs-radio-hint", null, textObject(o.description, opts.names)));
      return h("label", "cs-radio", null, kids);
    }),
  );
}

function input(b: Json, opts: BlockOptions): VNode {
  const blockId = str(b.block_id);
  const el = isObject(b.element) ? b.element : {};
  const actionId = str(el.action_id);
  const fieldId = `input-${blockId}-${actionId}`;
  const attrs: Record<string, string> = {
    id: fieldId,
    name: `${blockId}/${actionId}`,
    "data-block-id": blockId,
    "data-action-id": actionId,
  };
  if (isObject(el.placeholder)) attrs.placeholder = str(el.placeholder.text);
  if (typeof el.max_length === "number") attrs.maxlength = String(el.max_length);
  const error = opts.errors?.[blockId];
  const initial = typeof el.initial_value === "string" ? el.initial_value : undefined;
  const field =
    el.type === "radio_buttons"
      ? radios(el, blockId, actionId, opts)
      : el.type === "plain_text_input" && el.multiline === true
        ? h(
            "textarea",
            "cs-field-input",
            { ...attrs, rows: initial === undefined ? "4" : "12" },
            initial === undefined ? [] : [initial],
          )
        : h("input", "cs-field-input", {
            ...attrs,
            type: "text",
            ...(initial === undefined ? {} : { value: initial }),
          });
  const kids: VNode[] = [
    h("label", "cs-input-label", { for: fieldId }, textObject(b.label, opts.names)),
    field,
  ];
  if (isObject(b.hint)) kids.push(h("div", "cs-input-hint", null, textObject(b.hint, opts.names)));
  if (error !== undefined) kids.push(h("div", "cs-input-error", { role: "alert" }, [error]));
  return h(
    "div",
    error === undefined ? "cs-input" : "cs-input cs-has-error",
    { "data-block-id": blockId },
    kids,
  );
}
