import type { CountersignClient } from "../client.ts";
import { CountersignApiError, CountersignConnectionError } from "../errors.ts";
import type { RequestResource } from "../types.ts";
import { verifyApprovalToken } from "../verify-token.ts";
import type { CallKeys } from "./call-keys.ts";
import { type ProgressSink, waitForDecision } from "./wait.ts";

/** Exactly what Claude Code's --permission-prompt-tool expects back (as JSON text). */
export type PermissionDecision =
  | { behavior: "allow"; updatedInput: Record<string, unknown> }
  | { behavior: "deny"; message: string };

export interface PermissionPromptDeps {
  client: CountersignClient;
  keys: CallKeys;
  /** Seconds to wait for a person; Infinity waits until the request is final (its TTL bounds it). */
  waitSeconds: number;
  progress?: ProgressSink;
  progressIntervalMs: number;
  signal: AbortSignal;
}

/** countersign's action for a Claude Code tool: `claude.<tool_name>`, in the characters actions allow. */
export function claudeAction(toolName: string): string {
  return `claude.${toolName.replace(/[^A-Za-z0-9._:/-]/g, "-")}`.slice(0, 200);
}

/**
 * Maps one Claude Code permission prompt to a countersign request and its decision back.
 * Fails closed: bad input, a refused or unmatched request, an unreachable service, a
 * timeout, or a token that does not verify all deny, with a message saying which.
 */
export async function permissionPrompt(
  deps: PermissionPromptDeps,
  args: Record<string, unknown>,
): Promise<PermissionDecision> {
  const { tool_name: toolName, input, tool_use_id: toolUseId } = args;
  if (typeof toolName !== "string" || toolName === "") {
    return deny("countersign permission_prompt: tool_name must be a non-empty string");
  }
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return deny("countersign permission_prompt: input must be an object");
  }
  if (toolUseId !== undefined && typeof toolUseId !== "string") {
    return deny("countersign permission_prompt: tool_use_id must be a string");
  }
  const params = input as Record<string, unknown>;
  const action = claudeAction(toolName);
  const body = { action, summary: summaryOf(toolName, params), params };
  const { client, keys } = deps;

  let request: RequestResource | undefined;
  try {
    const { key, digest } = keys.keyFor(body, toolUseId);
    request = (await client.createRequest(body, { idempotencyKey: key, signal: deps.signal })).request;
    keys.created(digest, request.id);
    const waited = await waitForDecision(client, request, {
      seconds: deps.waitSeconds,
      budgetSeconds: deps.waitSeconds,
      ...(deps.progress ? { progress: deps.progress } : {}),
      progressIntervalMs: deps.progressIntervalMs,
      signal: deps.signal,
    });
    request = waited.request;
  } catch (error) {
    // Claude Code gave up on the prompt (interrupted): nobody should approve it any more.
    if (deps.signal.aborted && request) await cancel(deps, request.id);
    return deny(explain(error, client, action));
  }

  if (request.status === "pending") {
    // Nobody decided in the time we may wait: take the question back from the approvers.
    await cancel(deps, request.id);
    return deny(`Not approved: nobody decided on ${request.id} within ${deps.waitSeconds} s.`);
  }
  if (!deps.signal.aborted) keys.answered(request.id);
  if (request.status !== "approved") return deny(refusalMessage(request));

  const approved = request.approved_params ?? request.params;
  try {
    await verifyApprovalToken(request.approval_token, {
      jwksUrl: client.jwksUrl,
      action,
      params: approved,
      audience: request.agent,
      requestId: request.id,
    });
  } catch (error) {
    return deny(`countersign approved ${request.id} but its token did not verify: ${messageOf(error)}`);
  }
  return { behavior: "allow", updatedInput: approved };
}

/** Takes a question back from the approvers; the same prompt asked again is then a new request. */
async function cancel(deps: PermissionPromptDeps, id: string): Promise<void> {
  deps.keys.answered(id);
  try {
    await deps.client.cancelRequest(id, { reason: "Claude Code stopped waiting" });
  } catch {
    // Already decided, or unreachable: the deny stands either way.
  }
}

function deny(message: string): PermissionDecision {
  return { behavior: "deny", message };
}

/** A one-line summary for the approver: the tool and its most telling argument. */
function summaryOf(toolName: string, input: Record<string, unknown>): string {
  const telling = ["command", "file_path", "path", "url", "pattern", "query", "description"]
    .map((key) => input[key])
    .find((value): value is string => typeof value === "string" && value.trim() !== "");
  const detail = telling === undefined ? "" : `: ${telling.replace(/\s+/g, " ").trim()}`;
  const text = `Claude Code wants to run ${toolName}${detail}`;
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}

function refusalMessage(request: RequestResource): string {
  const last = request.decisions.filter((d) => d.decision === "reject").at(-1);
  const who = last ? ` by ${last.approver.name ?? last.approver.slack_user_id}` : "";
  const why = last?.comment ? `: ${last.comment}` : "";
  switch (request.resolution) {
    case "changes_requested":
      return `Changes requested${who}${why}. Revise and try again (${request.id}).`;
    case "approval_timeout":
      return `Not approved: nobody decided before ${request.id} expired.`;
    case "cancelled_by_agent":
      return `Not approved: ${request.id} was cancelled.`;
    default:
      return `Denied${who}${why} (${request.resolution ?? request.status}, ${request.id}).`;
  }
}

function explain(error: unknown, client: CountersignClient, action: string): string {
  if (error instanceof CountersignConnectionError) {
    return `Not approved: countersign is unreachable at ${client.baseUrl}: ${error.message}`;
  }
  if (error instanceof CountersignApiError) {
    if (error.code === "no_matching_policy") {
      return `Not approved: countersign has no policy for "${action}"; add one that matches claude.* to its config.`;
    }
    return `Not approved: countersign refused the request (${error.code}): ${error.message}`;
  }
  return `Not approved: ${messageOf(error)}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
