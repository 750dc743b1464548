import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { CountersignClient } from "../client.ts";
import { CountersignApiError, CountersignConnectionError } from "../errors.ts";
import type { CreateRequestBody, RequestResource } from "../types.ts";
import { CallKeys } from "./call-keys.ts";
import { permissionPrompt } from "./permission-prompt.ts";
import { MAX_WAIT_SECONDS, TOOLS } from "./tools.ts";
import { type ProgressSink, waitForDecision } from "./wait.ts";

export { TOOLS } from "./tools.ts";

export const VERSION = "0.1.0";

export interface McpOptions {
  client: CountersignClient;
  /**
   * Seconds one tool call holds without a progressToken before answering "still pending"
   * with the id (below the 60 s request timeout most MCP clients use). Default 50.
   */
  callBudgetSeconds?: number;
  /** Milliseconds between progress notifications while waiting. Default 10 000. */
  progressIntervalMs?: number;
  /** Seconds permission_prompt waits for a person before denying; default: until the request is final. */
  permissionWaitSeconds?: number;
}

/** An MCP server (not yet connected to a transport) exposing countersign's approval tools. */
export function createMcpServer(options: McpOptions): Server {
  const { client } = options;
  const budgetSeconds = options.callBudgetSeconds ?? 50;
  const progressIntervalMs = options.progressIntervalMs ?? 10_000;
  const keys = new CallKeys();
  const server = new Server({ name: "countersign", version: VERSION }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const args: Record<string, unknown> = request.params.arguments ?? {};
    const progressToken = request.params._meta?.progressToken;
    const progress: ProgressSink | undefined =
      progressToken === undefined
        ? undefined
        : (value, total, message) =>
            extra.sendNotification({
              method: "notifications/progress",
              params: { progressToken, progress: value, ...(total === undefined ? {} : { total }), message },
            });
    const waiting = {
      budgetSeconds,
      progressIntervalMs,
      signal: extra.signal,
      ...(progress ? { progress } : {}),
    };
    try {
      switch (request.params.name) {
        case "request_approval": {
          const { wait_seconds, idempotency_key, ...body } = args;
          const seconds = parseWait(wait_seconds);
          if (
            idempotency_key !== undefined &&
            (typeof idempotency_key !== "string" || idempotency_key === "")
          ) {
            throw new BadArguments("idempotency_key must be a non-empty string");
          }
          const derived = idempotency_key === undefined ? keys.keyFor(body) : undefined;
          const { request: created } = await client.createRequest(body as unknown as CreateRequestBody, {
            signal: extra.signal,
            idempotencyKey: derived?.key ?? (idempotency_key as string),
          });
          if (derived) keys.created(derived.digest, created.id);
          const waited = await waitForDecision(client, created, { ...waiting, seconds });
          return answer(waited.request, waited.waitedSeconds, keys, extra.signal);
        }
        case "get_approval": {
          const { id, wait_seconds, ...rest } = args;
          const unknown = Object.keys(rest);
          if (unknown.length > 0) {
            throw new BadArguments(
              `unknown argument ${unknown.join(", ")}; get_approval takes id and wait_seconds`,
            );
          }
          if (typeof id !== "string" || !/^req_[A-Za-z0-9_-]{1,64}$/.test(id)) {
            throw new BadArguments(
              "id must be a request id such as req_01J…, as request_approval returned it",
            );
          }
          const seconds = parseWait(wait_seconds);
          const current = await client.getRequest(id, { signal: extra.signal });
          const waited = await waitForDecision(client, current, { ...waiting, seconds });
          return answer(waited.request, waited.waitedSeconds, keys, extra.signal);
        }
        case "permission_prompt": {
          const decision = await permissionPrompt(
            {
              client,
              keys,
              waitSeconds: options.permissionWaitSeconds ?? Number.POSITIVE_INFINITY,
              progressIntervalMs,
              signal: extra.signal,
              ...(progress ? { progress } : {}),
            },
            args,
          );
          return {
            content: [{ type: "text", text: JSON.stringify(decision) }],
            structuredContent: decision,
          };
        }
        default:
          return toolError(
            `unknown tool "${request.params.name}"; the tools are ${TOOLS.map((t) => t.name).join(", ")}`,
          );
      }
    } catch (error) {
      return toolError(describe(error, client));
    }
  });
  return server;
}

class BadArguments extends Error {}

function parseWait(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_WAIT_SECONDS) {
    throw new BadArguments(`wait_seconds must be a whole number from 0 to ${MAX_WAIT_SECONDS}`);
  }
  return value;
}

/** What a tool answers about a request: enough to decide whether to act. */
export function summarize(request: RequestResource, waitedSeconds?: number) {
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
    ...(waitedSeconds === undefined ? {} : { waited_seconds: waitedSeconds }),
    next:
      request.status === "pending"
        ? `Still pending. Call get_approval with id "${request.id}" and wait_seconds to keep waiting; do not act yet.`
        : null,
  };
}

function answer(
  request: RequestResource,
  waitedSeconds: number,
  keys: CallKeys,
  signal: AbortSignal,
): CallToolResult {
  // Only a final answer that reaches the client ends the key: a cancelled call's answer is dropped.
  if (request.status !== "pending" && !signal.aborted) keys.answered(request.id);
  const summary = summarize(request, waitedSeconds);
  return { content: [{ type: "text", text: JSON.stringify(summary, null, 2) }], structuredContent: summary };
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
