import { describe, expect, it } from "vitest";
import { claudeAction } from "../../clients/typescript/src/mcp/permission-prompt.ts";
import { submitEditRaw } from "../slack-flow/helpers.ts";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { TEST_CONFIG_YAML, TOKENS, testConfig } from "../support/config.ts";
import { eventually, type Harness } from "../support/harness.ts";
import { harness, storedRequests } from "./helpers.ts";
import { call, session } from "./mcp-session.ts";

const cleanups = useCleanups();

/** The test config plus what an operator adds for Claude Code: reads pass, a few refused, the rest to a person. */
const CLAUDE_CONFIG = testConfig(
  TEST_CONFIG_YAML.replace(
    "redact: [card_number]",
    `  - name: claude-reads
    match: { action: "claude.Read" }
    decision: approve
  - name: claude-no-force-push
    match: { action: "claude.Bash", params.command: { eq: "git push --force" } }
    decision: reject
  - name: claude-tools
    match: { action: "claude.*" }
    route: support-lead
    ttl: 30m
    edits: true
redact: [card_number]`,
  ),
);

async function start(extraEnv: Record<string, string> = {}) {
  // The adapter verifies each token against the real clock (as Claude Code's machine would): start at now.
  const h = await harness(cleanups, { config: CLAUDE_CONFIG, clock: new FakeClock(Date.now()) });
  const client = await session(cleanups, {
    COUNTERSIGN_URL: h.url,
    COUNTERSIGN_TOKEN: TOKENS.support,
    ...extraEnv,
  });
  return { h, client };
}

/** Claude Code reads the first text content as JSON; this is what it would parse. */
async function prompt(client: Awaited<ReturnType<typeof start>>["client"], args: object) {
  const answer = await call(client, "permission_prompt", args);
  expect(answer.isError).toBe(false);
  const decision = JSON.parse(answer.text);
  expect(answer.structured).toEqual(decision);
  return decision;
}

async function postedRequest(h: Harness): Promise<string> {
  const id = await eventually(
    async () => (await h.api("GET", "/v1/requests")).json.data[0]?.id as string | undefined,
  );
  await eventually(async () => (await h.service.deps.store.getRequest(id))?.slackTs);
  return id;
}

const BASH = { command: "rm -rf build/", description: "Clean the build directory" };

describe("permission_prompt: Claude Code's --permission-prompt-tool", () => {
  it("tools/list: the input is {tool_name, input, tool_use_id?}", async () => {
    const { client } = await start();
    const tool = (await client.listTools()).tools.find((t) => t.name === "permission_prompt")!;
    expect(tool.inputSchema.required).toEqual(["tool_name", "input"]);
    expect(Object.keys(tool.inputSchema.properties ?? {}).sort()).toEqual([
      "input",
      "tool_name",
      "tool_use_id",
    ]);
  });

  it("a tool a policy approves → exactly {behavior: allow, updatedInput: input}, no human", async () => {
    const { h, client } = await start();
    const input = { file_path: "/repo/README.md" };
    const decision = await prompt(client, { tool_name: "Read", input, tool_use_id: "toolu_01" });
    expect(decision).toEqual({ behavior: "allow", updatedInput: input });
    const [row] = (await h.api("GET", "/v1/requests")).json.data;
    expect(row).toMatchObject({ action: "claude.Read", params: input, resolution: "approved_by_policy" });
  });

  it("Bash → an evidence pack for claude.Bash with the input as params; approved in Slack → allow with the input", async () => {
    const { h, client } = await start();
    const pending = prompt(client, { tool_name: "Bash", input: BASH, tool_use_id: "toolu_02" });
    const id = await postedRequest(h);
    const stored = (await h.api("GET", `/v1/requests/${id}`)).json;
    expect(stored).toMatchObject({ action: "claude.Bash", params: BASH, status: "pending" });
    expect(stored.summary).toContain("rm -rf build/");
    await h.click("U0LEAD1", "approve", id);
    expect(await pending).toEqual({ behavior: "allow", updatedInput: BASH });
  });

  it("approve with edits → allow with the approver's edited input as updatedInput", async () => {
    const { h, client } = await start();
    const pending = prompt(client, { tool_name: "Bash", input: BASH, tool_use_id: "toolu_03" });
    const id = await postedRequest(h);
    const edited = { command: "rm -rf build/tmp/", description: "Clean only the temp dir" };
    expect((await submitEditRaw(h, "U0LEAD2", id, JSON.stringify(edited))).status).toBe(200);
    expect(await pending).toEqual({ behavior: "allow", updatedInput: edited });
  });

  it("rejected in Slack with a reason → deny naming who and why; rejected by policy → deny", async () => {
    const { h, client } = await start();
    const pending = prompt(client, { tool_name: "Write", input: { file_path: "/etc/hosts", content: "x" } });
    const id = await postedRequest(h);
    await h.click("U0LEAD2", "reject", id);
    await h.submitReject("U0LEAD2", id, "Not the system hosts file");
    const denied = await pending;
    expect(denied).toEqual({
      behavior: "deny",
      message: expect.stringContaining("Not the system hosts file"),
    });
    expect(Object.keys(denied).sort()).toEqual(["behavior", "message"]);

    const policy = await prompt(client, { tool_name: "Bash", input: { command: "git push --force" } });
    expect(policy).toMatchObject({
      behavior: "deny",
      message: expect.stringContaining("rejected_by_policy"),
    });
  });

  it("the same tool_use_id twice → one request (a retried prompt never asks twice)", async () => {
    const { h, client } = await start();
    const args = { tool_name: "Bash", input: BASH, tool_use_id: "toolu_04" };
    const first = prompt(client, args);
    const second = prompt(client, args);
    const id = await postedRequest(h);
    await h.click("U0LEAD1", "approve", id);
    expect(await first).toMatchObject({ behavior: "allow" });
    expect(await second).toMatchObject({ behavior: "allow" });
    expect(await storedRequests(h)).toBe(1);
  });

  it("fails closed: bad input, no matching policy, an unreachable service, nobody deciding in time → deny", async () => {
    const { h, client } = await start({ COUNTERSIGN_MCP_PERMISSION_WAIT_SECONDS: "1" });
    expect(await prompt(client, { tool_name: "Bash", input: "rm -rf /" })).toMatchObject({
      behavior: "deny",
      message: expect.stringContaining("input must be an object"),
    });
    expect(await prompt(client, { input: {} })).toMatchObject({ behavior: "deny" });

    const late = await prompt(client, { tool_name: "Bash", input: BASH });
    expect(late).toMatchObject({ behavior: "deny", message: expect.stringContaining("nobody decided") });
    // The question is taken back from the approvers.
    const [row] = (await h.api("GET", "/v1/requests")).json.data;
    expect(row).toMatchObject({ status: "cancelled" });
    // Asked again (no tool_use_id): a new question, not the cancelled one.
    const again = await prompt(client, { tool_name: "Bash", input: BASH });
    expect(again).toMatchObject({ behavior: "deny", message: expect.stringContaining("nobody decided") });
    const statuses = ((await h.api("GET", "/v1/requests")).json.data as { status: string }[]).map(
      (r) => r.status,
    );
    expect(statuses).toEqual(["cancelled", "cancelled"]);

    const bare = await harness(cleanups);
    const unmatched = await session(cleanups, {
      COUNTERSIGN_URL: bare.url,
      COUNTERSIGN_TOKEN: TOKENS.support,
    });
    expect(await prompt(unmatched, { tool_name: "Bash", input: BASH })).toMatchObject({
      behavior: "deny",
      message: expect.stringContaining('no policy for "claude.Bash"'),
    });
    const offline = await session(cleanups, {
      COUNTERSIGN_URL: "http://127.0.0.1:1",
      COUNTERSIGN_TOKEN: "t",
    });
    expect(await prompt(offline, { tool_name: "Bash", input: BASH })).toMatchObject({
      behavior: "deny",
      message: expect.stringContaining("unreachable"),
    });
  });

  it("an approval whose token does not verify (here: already expired by the service's clock) → deny", async () => {
    const h = await harness(cleanups, { config: CLAUDE_CONFIG }); // its clock is weeks behind the real one
    const client = await session(cleanups, { COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support });
    expect(await prompt(client, { tool_name: "Read", input: { file_path: "/x" } })).toMatchObject({
      behavior: "deny",
      message: expect.stringMatching(/token did not verify: .*expired/),
    });
  });

  it("a long decision: progress keeps a short client timeout alive; a prompt the client gives up on is cancelled", async () => {
    const { h, client } = await start({ COUNTERSIGN_MCP_PROGRESS_SECONDS: "0.5" });
    const progress: unknown[] = [];
    const pending = call(
      client,
      "permission_prompt",
      { tool_name: "Bash", input: BASH, tool_use_id: "toolu_05" },
      { onprogress: (p) => progress.push(p), timeout: 3_000, resetTimeoutOnProgress: true },
    );
    const id = await postedRequest(h);
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    await h.click("U0LEAD1", "approve", id);
    expect(JSON.parse((await pending).text)).toEqual({ behavior: "allow", updatedInput: BASH });
    expect(progress.length).toBeGreaterThanOrEqual(7);

    // No progress asked for, a 1 s timeout: the SDK cancels the call, countersign cancels the request.
    const abandoned = await call(
      client,
      "permission_prompt",
      { tool_name: "Bash", input: { command: "make" }, tool_use_id: "toolu_06" },
      { timeout: 1_000 },
    ).catch((error: unknown) => error);
    expect(abandoned).toBeInstanceOf(Error);
    await eventually(async () => {
      const list = (await h.api("GET", "/v1/requests")).json.data as { params: unknown; status: string }[];
      return (
        list.find((r) => JSON.stringify(r.params) === '{"command":"make"}')?.status === "cancelled" ||
        undefined
      );
    }, 10_000);
  }, 30_000);

  it("action names: claude.<tool_name>, other characters replaced so any MCP tool name is a valid action", () => {
    expect(claudeAction("Bash")).toBe("claude.Bash");
    expect(claudeAction("mcp__github__create_issue")).toBe("claude.mcp__github__create_issue");
    expect(claudeAction("weird tool!")).toBe("claude.weird-tool-");
  });
});
