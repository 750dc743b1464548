// Block Kit limits, checked the way Slack checks them. The renderer stays inside
// them, and the fake Slack server in the tests rejects messages that break them.
// Violations are reported like Slack's `invalid_blocks` errors:
// "<message> [json-pointer:/blocks/3/text/text]".

export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  actionId: 255,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  inputLabel: 2000,
  /** A plain_text_input's value (and initial_value). */
  inputValue: 3000,
  radioOptions: 10,
  optionText: 75,
  optionValue: 150,
  viewTitle: 24,
  viewButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
  /** Sum of all text in a message's blocks; Slack answers `msg_blocks_too_long` past it. */
  totalText: 12_000,
} as const;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Sums the length of every `text` string in text objects, at any depth. */
function sumText(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + sumText(x), 0);
  if (!isObject(v)) return 0;
  let n = 0;
  for (const [k, x] of Object.entries(v)) {
    if (k === "text" && typeof x === "string") n += x.length;
    else n += sumText(x);
  }
  return n;
}

/** Number of blocks and total characters of text in them. */
export function measureBlocks(blocks: readonly unknown[]): { blocks: number; textChars: number } {
  return { blocks: blocks.length, textChars: sumText(blocks) };
}

class Checker {
  readonly errors: string[] = [];
  fail(path: string, message: string): void {
    this.errors.push(`${message} [json-pointer:${path}]`);
  }

  /** A text object: right type, text length within [min, max]. */
  text(
    v: unknown,
    path: string,
    max: number,
    types: readonly string[] = ["plain_text", "mrkdwn"],
    min = 1,
  ): void {
    if (!isObject(v)) {
      this.fail(path, "must be a text object");
      return;
    }
    if (typeof v.type !== "string" || !types.includes(v.type)) {
      this.fail(`${path}/type`, `must be one of ${types.join(", ")}`);
      return;
    }
    this.str(v.text, `${path}/text`, max, min);
  }

  str(v: unknown, path: string, max: number, min = 1): void {
    if (typeof v !== "string") {
      this.fail(path, "must be a string");
      return;
    }
    if (v.length < min) this.fail(path, `must be at least ${min} characters`);
    if (v.length > max) this.fail(path, `must be at most ${max} characters (got ${v.length})`);
  }

  button(el: Json, path: string): void {
    this.text(el.text, `${path}/text`, LIMITS.buttonText, ["plain_text"]);
    this.str(el.action_id, `${path}/action_id`, LIMITS.actionId);
    if (el.value !== undefined) this.str(el.value, `${path}/value`, LIMITS.buttonValue, 0);
    if (el.url !== undefined) this.str(el.url, `${path}/url`, LIMITS.buttonUrl);
    if (el.style !== undefined && el.style !== "primary" && el.style !== "danger") {
      this.fail(`${path}/style`, "must be primary or danger");
    }
    if (el.confirm !== undefined) this.confirm(el.confirm, `${path}/confirm`);
  }

  confirm(v: unknown, path: string): void {
    if (!isObject(v)) {
      this.fail(path, "must be a confirmation object");
      return;
    }
    if (v.title !== undefined) this.text(v.title, `${path}/title`, LIMITS.confirmTitle, ["plain_text"]);
    this.text(v.text, `${path}/text`, LIMITS.confirmText);
    if (v.confirm !== undefined)
      this.text(v.confirm, `${path}/confirm`, LIMITS.confirmButton, ["plain_text"]);
    if (v.deny !== undefined) this.text(v.deny, `${path}/deny`, LIMITS.confirmButton, ["plain_text"]);
  }

  element(v: unknown, path: string): void {
    if (!isObject(v)) {
      this.fail(path, "must be an object");
      return;
    }
    if (v.type === "button") this.button(v, path);
    else if (v.type === "plain_text_input") {
      this.str(v.action_id, `${path}/action_id`, LIMITS.actionId);
      if (v.initial_value !== undefined)
        this.str(v.initial_value, `${path}/initial_value`, LIMITS.inputValue, 0);
    } else if (v.type === "radio_buttons") {
      this.str(v.action_id, `${path}/action_id`, LIMITS.actionId);
      const options = Array.isArray(v.options) ? v.options : [];
      if (options.length < 1 || options.length > LIMITS.radioOptions)
        this.fail(`${path}/options`, `must have 1 to ${LIMITS.radioOptions} options`);
      options.forEach((o, i) => {
        if (!isObject(o)) this.fail(`${path}/options/${i}`, "must be an object");
        else {
          this.text(o.text, `${path}/options/${i}/text`, LIMITS.optionText);
          this.str(o.value, `${path}/options/${i}/value`, LIMITS.optionValue);
        }
      });
      const initial = v.initial_option;
      if (
        initial !== undefined &&
        !(isObject(initial) && options.some((o) => isObject(o) && o.value === initial.value))
      )
        this.fail(`${path}/initial_option`, "must be one of the options");
    } else if (typeof v.type !== "string") this.fail(`${path}/type`, "must be a string");
  }

  block(b: unknown, path: string, blockIds: Set<string>): void {
    if (!isObject(b)) {
      this.fail(path, "must be an object");
      return;
    }
    if (b.block_id !== undefined) {
      this.str(b.block_id, `${path}/block_id`, LIMITS.blockId);
      if (typeof b.block_id === "string") {
        if (blockIds.has(b.block_id)) this.fail(`${path}/block_id`, "must be unique");
        blockIds.add(b.block_id);
      }
    }
    switch (b.type) {
      case "header":
        this.text(b.text, `${path}/text`, LIMITS.headerText, ["plain_text"]);
        return;
      case "section":
        this.section(b, path);
        return;
      case "context":
        this.list(b.elements, `${path}/elements`, LIMITS.contextElements, (el, p) => {
          if (!(isObject(el) && el.type === "image")) this.text(el, p, LIMITS.contextText);
        });
        return;
      case "actions": {
        const actionIds = new Set<string>();
        this.list(b.elements, `${path}/elements`, LIMITS.actionsElements, (el, p) => {
          this.element(el, p);
          if (isObject(el) && typeof el.action_id === "string") {
            if (actionIds.has(el.action_id)) this.fail(`${p}/action_id`, "must be unique in the block");
            actionIds.add(el.action_id);
          }
        });
        return;
      }
      case "input":
        this.text(b.label, `${path}/label`, LIMITS.inputLabel, ["plain_text"]);
        this.element(b.element, `${path}/element`);
        return;
      case "divider":
        return;
      default:
        if (typeof b.type !== "string") this.fail(`${path}/type`, "must be a string");
    }
  }

  section(b: Json, path: string): void {
    if (b.text === undefined && b.fields === undefined) {
      this.fail(path, "must have text or fields");
      return;
    }
    if (b.text !== undefined) this.text(b.text, `${path}/text`, LIMITS.sectionText);
    if (b.fields !== undefined) {
      this.list(b.fields, `${path}/fields`, LIMITS.fields, (f, p) => {
        this.text(f, p, LIMITS.fieldText);
      });
    }
    if (b.accessory !== undefined) this.element(b.accessory, `${path}/accessory`);
  }

  list(v: unknown, path: string, max: number, each: (el: unknown, path: string) => void): void {
    if (!Array.isArray(v) || v.length === 0) {
      this.fail(path, "must be a non-empty array");
      return;
    }
    if (v.length > max) this.fail(path, `must have at most ${max} items (got ${v.length})`);
    v.forEach((el, i) => {
      each(el, `${path}/${i}`);
    });
  }

  blocks(blocks: unknown, maxBlocks: number, path = "/blocks"): void {
    if (!Array.isArray(blocks)) {
      this.fail(path, "must be an array");
      return;
    }
    if (blocks.length > maxBlocks)
      this.fail(path, `must have at most ${maxBlocks} blocks (got ${blocks.length})`);
    const ids = new Set<string>();
    blocks.forEach((b, i) => {
      this.block(b, `${path}/${i}`, ids);
    });
  }
}

/** Every Block Kit limit a message's blocks break; empty when Slack would accept them. */
export function validateMessage(blocks: unknown): string[] {
  const c = new Checker();
  c.blocks(blocks, LIMITS.messageBlocks);
  if (Array.isArray(blocks)) {
    const total = sumText(blocks);
    if (total > LIMITS.totalText) {
      c.fail(
        "/blocks",
        `msg_blocks_too_long: text totals ${total} characters, more than ${LIMITS.totalText}`,
      );
    }
  }
  return c.errors;
}

/** Every limit a modal view breaks (title, buttons, private_metadata, blocks); empty when valid. */
export function validateView(view: unknown): string[] {
  const c = new Checker();
  if (!isObject(view)) {
    c.fail("/view", "must be an object");
    return c.errors;
  }
  if (view.type !== "modal") c.fail("/view/type", "must be modal");
  c.text(view.title, "/view/title", LIMITS.viewTitle, ["plain_text"]);
  if (view.submit !== undefined) c.text(view.submit, "/view/submit", LIMITS.viewButton, ["plain_text"]);
  if (view.close !== undefined) c.text(view.close, "/view/close", LIMITS.viewButton, ["plain_text"]);
  if (view.private_metadata !== undefined) {
    c.str(view.private_metadata, "/view/private_metadata", LIMITS.privateMetadata, 0);
  }
  if (view.callback_id !== undefined) c.str(view.callback_id, "/view/callback_id", LIMITS.callbackId, 0);
  c.blocks(view.blocks, LIMITS.viewBlocks, "/view/blocks");
  const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === "input");
  if (hasInput && view.submit === undefined)
    c.fail("/view/submit", "is required when the view has input blocks");
  return c.errors;
}
