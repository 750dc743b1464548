import { z } from "zod";
import { parseDuration } from "../config/duration.ts";
import { evidenceItemSchema, riskSchema } from "../domain/vocabulary.ts";

// Tab, newline and carriage return are fine in text; other C0 control characters are not.
const noControl = (s: string) => {
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
};
const text = (max: number) => z.string().max(max).refine(noControl, "must not contain control characters");

/** Deeper params are refused: hashing and rendering walk them recursively. `{}` is depth 1. */
export const MAX_PARAMS_DEPTH = 32;

/** Nesting depth of objects and arrays, counted without recursion and given up past `limit`. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== "object") continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Checked on the parsed JSON before zod copies it: a copy would silently drop an own
 * "__proto__" key, and then args_hash would not cover what the agent sent.
 */
export const paramsSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return;
    if (Object.hasOwn(value, "__proto__")) {
      ctx.addIssue({ code: "custom", path: ["__proto__"], message: 'the key "__proto__" is not allowed' });
    }
    if (depthExceeds(value, MAX_PARAMS_DEPTH)) {
      ctx.addIssue({ code: "custom", message: `must not be nested deeper than ${MAX_PARAMS_DEPTH} levels` });
    }
  })
  .pipe(z.record(z.string(), z.unknown()));

/** The body of `POST /v1/requests`. Unknown keys are refused so a typo is never silently ignored. */
export const createRequestBodySchema = z.strictObject({
  action: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, "must be letters, digits and . _ : / - (e.g. refund.issue)"),
  summary: text(10_000).min(1),
  target: text(1_000).optional(),
  params: paramsSchema,
  reason: text(10_000).optional(),
  risk: riskSchema.strict().optional(),
  evidence: z
    .array(
      evidenceItemSchema.strict().refine((item) => item.text !== undefined || item.url !== undefined, {
        error: "an evidence item needs text or url (or both)",
      }),
    )
    .max(100)
    .optional(),
  run_id: text(200).optional(),
  on_behalf_of: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,}$/, "must be a Slack user id such as U0123ABC")
    .optional(),
  callback_url: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .max(2000)
    .optional(),
  /** The id of an earlier request of the same agent that this one revises (CONTRACT §9). */
  revises: z
    .string()
    .max(100)
    .regex(/^req_[A-Za-z0-9]+$/, "must be a request id such as req_0123abcd")
    .optional(),
  /** Milliseconds from here on: the duration is parsed once, here. */
  ttl: z
    .string()
    // The transform checks; the pattern documents the form in /openapi.json.
    .meta({ pattern: "^[1-9][0-9]*[smhd]$", description: "may shorten, never lengthen, the policy's ttl" })
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null)
        ctx.addIssue({ code: "custom", message: "must be a duration such as 90s, 30m, 4h or 2d" });
      return ms ?? z.NEVER;
    })
    .optional(),
});

export type CreateRequestBody = z.infer<typeof createRequestBodySchema>;

export const outcomeBodySchema = z.strictObject({
  status: z.enum(["succeeded", "failed"]),
  detail: text(2000).optional(),
});
export type OutcomeBody = z.infer<typeof outcomeBodySchema>;

export const cancelBodySchema = z.strictObject({ reason: text(2000).optional() });
