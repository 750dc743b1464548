import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import type { CountersignClient } from "../client.ts";
import { CountersignApiError, CountersignConnectionError } from "../errors.ts";
import createBodySchema from "../generated/create-body.schema.json" with { type: "json" };
import type { CreateRequestBody, RequestResource } from "../types.ts";

export const VERSION = "0.1.0";

const { $schema: _draft, ...bodySchema } = createBodySchema;

const waitSeconds = {
  type: "integer",
  minimum: 0,
  maximum: 60,
  description: "Hold the answer up to this many seconds until a person decides (0 answers at once).",
} as const;

/** The tools, with JSON Schemas generated from the service's body schema. */
export const TOOLS: Tool[] = [
  {
    name: "request_approval",
    title: "Ask a person to approve an action",
    description:
      "Asks countersign for a human approval in Slack before doing something consequential " +
      "(moving money, deleting data, emailing a customer, deploying). Returns the request's id, " +
      "status (pending, approved, rejected, expired, cancelled), resolution, the reviewer's comment and, " +
      "once approved, approval_token. Do the action only when status is approved, with exactly these params. " +
      "While pending, call get_approval with the id.",
    inputSchema: {
      ...bodySchema,
      type: "object",
      properties: {
        ...bodySchema.properties,
        wait_seconds: waitSeconds,
        idempotency_key: {
          type: "string",
          minLength: 1,
          maxLength: 255,
          description:
            "Repeat a call with the same key and body to get the same request instead of a new one.",
        },
      },
    },
  },
  {
    name: "get_approval",
    title: "Check an approval request",
    description:
      "Reads an approval request by id, optionally waiting up to wait_seconds for a decision. " +
      "Answers id, status, resolution, comment and approval_token.",
    inputSchema: {
      type: "object",
      properties: {
        id: { type: "string", pattern: "^req_[A-Za-z0-9_-]{1,64}$", description: "The request id (req_…)." },
        wait_seconds: waitSeconds,
      },
      required: ["id"],
      additionalProperties: false,
    },
  },
];

export interface McpOptions {
  client: CountersignClient;
}

/** An MCP server (not yet connected to a transport) exposing countersign's approval tools. */
export function createMcpServer(options: McpOptions): Server {
  const { client } = options;
  const server = new Server({ name: "countersign", version: VERSION }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const args: Record<string, unknown> = request.params.arguments ?? {};
    try {
      switch (request.params.name) {
        case "request_approval":
          return answer(await requestApproval(client, args, extra.signal));
        case "get_approval":
          return answer(await getApproval(client, args, extra.signal));
        default:
          return toolError(
            `unknown tool "${request.params.name}"; the tools are request_approval and get_approval`,
          );
      }
    } catch (error) {
      return toolError(describe(error, client));
    }
  });
  return server;
}

class BadArguments extends Error {}

async function requestApproval(
  client: CountersignClient,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<RequestResource> {
  const { wait_seconds, idempotency_key, ...body } = args;
  const wait = parseWait(wait_seconds);
  if (idempotency_key !== undefined && (typeof idempotency_key !== "string" || idempotency_key === "")) {
    throw new BadArguments("idempotency_key must be a non-empty string");
  }
  const { request } = await client.createRequest(body as unknown as CreateRequestBody, {
    signal,
    ...(idempotency_key === undefined ? {} : { idempotencyKey: idempotency_key }),
  });
  if (wait === 0 || request.status !== "pending") return request;
  return client.getRequest(request.id, { wait, signal });
}

async function getApproval(
  client: CountersignClient,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<RequestResource> {
  const { id, wait_seconds, ...rest } = args;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw new BadArguments(`unknown argument ${unknown.join(", ")}; get_approval takes id and wait_seconds`);
  if (typeof id !== "string" || !/^req_[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw new BadArguments("id must be a request id such as req_01J…, as request_approval returned it");
  }
  return client.getRequest(id, { wait: parseWait(wait_seconds), signal });
}

function parseWait(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 60) {
    throw new BadArguments("wait_seconds must be a whole number from 0 to 60");
  }
  return value;
}

/** What a tool answers about a request: enough to decide whether to act. */
export function summarize(request: RequestResource) {
  const closing =
    request.decisions.filter((d) => d.decision === "reject").at(-1) ??
    (request.status === "approved" ? request.decisions.at(-1) : undefined);
  return {
    id: request.id,
    status: request.status,
    resolution: request.resolution,
    comment: closing?.comment ?? null,
    approver: closing ? (closing.approver.name ?? closing.approver.slack_user_id) : null,
    approval_token: request.approval_token ?? null,
    action: request.action,
    args_hash: request.args_hash,
    ...(request.approved_params ? { approved_params: request.approved_params } : {}),
    expires_at: request.expires_at,
  };
}

function answer(request: RequestResource): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(summarize(request), null, 2) }] };
}

function toolError(message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }] };
}

function describe(error: unknown, client: CountersignClient): string {
  if (error instanceof BadArguments) return `Bad arguments: ${error.message}`;
  if (error instanceof CountersignConnectionError) {
    return `countersign is unreachable at ${client.baseUrl} (COUNTERSIGN_URL): ${error.message}`;
  }
  if (error instanceof CountersignApiError) {
    if (error.code === "unauthorized") {
      return `countersign refused the agent token (COUNTERSIGN_TOKEN): ${error.message}`;
    }
    const issues = error.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    return `countersign refused the request (${error.code}): ${error.message}${issues ? ` — ${issues}` : ""}`;
  }
  return `countersign tool failed: ${error instanceof Error ? error.message : String(error)}`;
}
