import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import createBodySchema from "../generated/create-body.schema.json" with { type: "json" };

/** The longest wait a tool accepts; beyond one call's budget it returns early (see wait.ts). */
export const MAX_WAIT_SECONDS = 3600;

type JsonSchema = { [key: string]: unknown; properties?: Record<string, JsonSchema>; items?: JsonSchema };

/**
 * What each create-body property means, for the model reading tools/list. The schema is
 * generated from the service's zod schemas; a description already there wins.
 */
const BODY_DESCRIPTIONS: Record<string, string> = {
  action:
    'What you are about to do, as a dotted verb such as "refund.issue" or "db.delete_rows"; policies match on it.',
  summary: "One or two sentences a person reads in Slack to decide: what, to whom, how much, and why.",
  target: 'What the action touches, e.g. "order #48213" or "prod-db/customers".',
  params:
    "The exact arguments you will execute with (an object). The approval binds these: args_hash is computed over their RFC 8785 canonical JSON.",
  reason: "Why the action is needed, in your own words.",
  risk: "Your own risk estimate; a policy may raise it, never lower it.",
  "risk.tier": "low, medium, high or critical.",
  "risk.score": "0 (harmless) to 100 (irreversible and costly).",
  "risk.reasons": "Short reasons for the tier and score.",
  evidence:
    "What the approver should see: the customer message, the diff, the query, a link. Each item has a title and text and/or url.",
  "evidence.title": "Heading of this evidence item.",
  "evidence.text": "The evidence itself (plain text or markdown).",
  "evidence.url": "A link to the evidence.",
  "evidence.format": "plain (default) or markdown.",
  run_id: "Your run or conversation id, shown to the approver and kept in the audit log.",
  on_behalf_of:
    "Slack user id (U…) of the person you act for; they may never approve this request themselves.",
  callback_url: "An https URL countersign POSTs the decision to (signed, Standard Webhooks). Optional.",
  revises:
    "The id of an earlier request whose reviewer asked for changes; the new one is posted in its thread.",
  ttl: "How long the request may wait for a person, e.g. 20m or 2h; may shorten, never lengthen, the policy's.",
};

const WAIT_SECONDS = {
  type: "integer",
  minimum: 0,
  maximum: MAX_WAIT_SECONDS,
  description:
    "Hold the answer up to this many seconds until a person decides (0 answers at once). A wait longer " +
    "than one tool call may last returns early with status pending and the id: then call get_approval " +
    "with that id to keep waiting.",
} as const;

function describeProperties(schema: JsonSchema, prefix = ""): JsonSchema {
  const properties = schema.properties;
  const out: JsonSchema = { ...schema };
  if (properties) {
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([name, property]) => {
        const path = prefix + name;
        const nested =
          property.items && typeof property.items === "object"
            ? { ...property, items: describeProperties(property.items, `${path}.`) }
            : describeProperties(property, `${path}.`);
        const description = property.description ?? BODY_DESCRIPTIONS[path];
        return [name, description === undefined ? nested : { ...nested, description }];
      }),
    );
  }
  return out;
}

const { $schema: _draft, ...generated } = createBodySchema as JsonSchema;
const bodySchema = describeProperties(generated);

const nullableString = (description: string) => ({ type: ["string", "null"], description });

/** The structured answer of request_approval and get_approval (also sent as JSON text). */
export const APPROVAL_OUTPUT_SCHEMA = {
  type: "object",
  properties: {
    id: { type: "string", description: "The request id (req_…); pass it to get_approval." },
    status: {
      type: "string",
      enum: ["pending", "approved", "rejected", "expired", "cancelled"],
      description: "Act only when approved.",
    },
    resolution: nullableString(
      "How it ended, e.g. approved_by_humans, approved_by_policy, rejected_by_human, changes_requested, approval_timeout.",
    ),
    comment: nullableString("The deciding reviewer's comment, if any."),
    approver: nullableString("Who decided (Slack name or id); null for a policy decision or while pending."),
    approval_token: nullableString("Once approved: the signed token a tool gateway verifies."),
    action: { type: "string" },
    args_hash: { type: "string", description: "sha256 over the canonical JSON of the params." },
    approved_params: {
      type: "object",
      description: "Present when the approver edited the params: execute with these instead.",
    },
    expires_at: { type: ["string", "null"], description: "When an undecided request expires (ISO 8601)." },
    waited_seconds: { type: "number", description: "How long this call waited." },
    next: nullableString("While still pending: what to do next."),
  },
  required: ["id", "status", "resolution", "comment", "approver", "approval_token", "action", "args_hash"],
} as const;

/** Claude Code's permission decision, as --permission-prompt-tool expects it. */
export const PERMISSION_OUTPUT_SCHEMA = {
  type: "object",
  properties: {
    behavior: { type: "string", enum: ["allow", "deny"] },
    updatedInput: { type: "object", description: "With allow: the input to run the tool with." },
    message: { type: "string", description: "With deny: why, for the model." },
  },
  required: ["behavior"],
} as const;

export const TOOLS: Tool[] = [
  {
    name: "request_approval",
    title: "Ask a person to approve an action",
    description:
      "Asks countersign for a human approval in Slack before doing something consequential " +
      "(moving money, deleting data, emailing a customer, deploying). Returns the request's id, " +
      "status (pending, approved, rejected, expired, cancelled), resolution, the reviewer's comment and, " +
      "once approved, approval_token. Do the action only when status is approved, with exactly these params " +
      "(or approved_params when present). While pending, call get_approval with the id; calling " +
      "request_approval again with the same arguments finds the same request, it never asks twice.",
    inputSchema: {
      ...bodySchema,
      type: "object",
      properties: {
        ...bodySchema.properties,
        wait_seconds: WAIT_SECONDS,
        idempotency_key: {
          type: "string",
          minLength: 1,
          maxLength: 255,
          description:
            "Only to ask twice for the same thing on purpose: a new key makes a new request. Without one, " +
            "identical arguments find the request already made (until its decision has been answered).",
        },
      },
    } as Tool["inputSchema"],
    outputSchema: APPROVAL_OUTPUT_SCHEMA as unknown as Tool["outputSchema"],
    annotations: {
      title: "Ask a person to approve an action",
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    },
  },
  {
    name: "get_approval",
    title: "Check an approval request",
    description:
      "Reads an approval request by id, optionally waiting up to wait_seconds for a decision. " +
      "Answers id, status, resolution, comment and approval_token. Use it to keep waiting on a request " +
      "that request_approval answered as pending.",
    inputSchema: {
      type: "object",
      properties: {
        id: {
          type: "string",
          pattern: "^req_[A-Za-z0-9_-]{1,64}$",
          description: "The request id (req_…) that request_approval returned.",
        },
        wait_seconds: WAIT_SECONDS,
      },
      required: ["id"],
      additionalProperties: false,
    },
    outputSchema: APPROVAL_OUTPUT_SCHEMA as unknown as Tool["outputSchema"],
    annotations: {
      title: "Check an approval request",
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    },
  },
  {
    name: "permission_prompt",
    title: "Claude Code permission prompt",
    description:
      "For Claude Code's --permission-prompt-tool: asks countersign (a person in Slack, or a policy) " +
      "whether Claude Code may run a tool. The action is claude.<tool_name> and the params are the tool's " +
      'input. Answers {"behavior":"allow","updatedInput":…} (the approver\'s edited input when they edited it) ' +
      'or {"behavior":"deny","message":…}. Fails closed: anything but a verified approval denies.',
    inputSchema: {
      type: "object",
      properties: {
        tool_name: {
          type: "string",
          minLength: 1,
          description: "The tool Claude Code wants to run, e.g. Bash.",
        },
        input: { type: "object", description: "The input Claude Code wants to run it with." },
        tool_use_id: {
          type: "string",
          description: "Claude Code's id of this tool use; a repeated call with it never asks twice.",
        },
      },
      required: ["tool_name", "input"],
    },
    outputSchema: PERMISSION_OUTPUT_SCHEMA as unknown as Tool["outputSchema"],
    annotations: {
      title: "Claude Code permission prompt",
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    },
  },
];
