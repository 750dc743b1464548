import { z } from "zod";
import { canonicalJson } from "../domain/canonical-json.ts";
import { createRequestBodySchema } from "./request-body.ts";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A copy without the properties named in `redactKeys` (any depth, any case): what the edit modal shows. */
export function withoutRedacted(value: unknown, redactKeys: readonly string[]): unknown {
  const keys = new Set(redactKeys.map((k) => k.toLowerCase()));
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isObject(v)) return v;
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) if (!keys.has(k.toLowerCase())) out[k] = walk(x);
    return out;
  };
  return walk(value);
}

/** Redacted keys found in `value` (paths like `card.number`), which an editor must not type in. */
function redactedPaths(value: unknown, keys: Set<string>, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => redactedPaths(v, keys, `${path}[${i}]`));
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const here = path === "" ? k : `${path}.${k}`;
    return keys.has(k.toLowerCase()) ? [here] : redactedPaths(v, keys, here);
  });
}

/** Puts the redacted values of `original` back wherever the edited value kept their parent object. */
function restoreRedacted(original: unknown, edited: unknown, keys: Set<string>): unknown {
  if (Array.isArray(original) && Array.isArray(edited)) {
    return edited.map((v, i) => restoreRedacted(original[i], v, keys));
  }
  if (!isObject(original) || !isObject(edited)) return edited;
  const out: Json = {};
  for (const [k, v] of Object.entries(original)) if (keys.has(k.toLowerCase())) out[k] = v;
  for (const [k, v] of Object.entries(edited)) out[k] = restoreRedacted(original[k], v, keys);
  return out;
}

/** The params an approver may edit, as the modal shows them: pretty JSON without redacted keys. */
export function editableJson(params: Json, redactKeys: readonly string[]): string {
  return JSON.stringify(withoutRedacted(params, redactKeys), null, 2);
}

const paramsSchema = createRequestBodySchema.shape.params;

export type ParsedEdit = { ok: true; params: Json; canonical: string } | { ok: false; message: string };

/**
 * Validates the modal's text like the create body validates params, then restores the
 * redacted values the modal left out. `current` is the version that was being edited.
 */
export function parseEditedParams(text: string, current: Json, redactKeys: readonly string[]): ParsedEdit {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `This is not valid JSON: ${(error as Error).message}` };
  }
  if (!isObject(parsed)) {
    const got = Array.isArray(parsed) ? "a list" : parsed === null ? "null" : `a ${typeof parsed}`;
    return { ok: false, message: `The parameters must be a JSON object ({ … }), not ${got}.` };
  }
  const keys = new Set(redactKeys.map((k) => k.toLowerCase()));
  const typed = redactedPaths(parsed, keys);
  if (typed.length > 0) {
    return {
      ok: false,
      message: `${typed.join(", ")} ${typed.length === 1 ? "is" : "are"} redacted and cannot be edited here; leave ${typed.length === 1 ? "it" : "them"} out (the agent's value is kept).`,
    };
  }
  const checked = paramsSchema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return { ok: false, message: `${where}${issue?.message ?? z.prettifyError(checked.error)}` };
  }
  const params = restoreRedacted(current, parsed, keys) as Json;
  return { ok: true, params, canonical: canonicalJson(params) };
}

export interface ParamChange {
  path: string;
  /** Absent when the key was added. */
  before?: unknown;
  /** Absent when the key was removed. */
  after?: unknown;
}

/** Key-by-key differences (objects walked, arrays and scalars compared whole), in a stable order. */
export function diffParams(before: unknown, after: unknown, path = ""): ParamChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => {
      const here = path === "" ? k : `${path}.${k}`;
      if (!Object.hasOwn(after, k)) return [{ path: here, before: before[k] }];
      if (!Object.hasOwn(before, k)) return [{ path: here, after: after[k] }];
      return diffParams(before[k], after[k], here);
    });
  }
  if (canonicalJson(before ?? null) === canonicalJson(after ?? null)) return [];
  return [{ path: path === "" ? "(params)" : path, before, after }];
}
