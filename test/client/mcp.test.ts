import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { useCleanups } from "../support/cleanups.ts";
import { TOKENS } from "../support/config.ts";
import { eventually } from "../support/harness.ts";
import { harness, REFUND } from "./helpers.ts";

const cleanups = useCleanups();
const BIN = fileURLToPath(new URL("../../clients/typescript/src/mcp/bin.ts", import.meta.url));

/** A real stdio session with `countersign-mcp`, spawned as an MCP client would. */
async function session(env: Record<string, string>): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    env: { PATH: process.env.PATH ?? "", ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "countersign-test", version: "1.0.0" });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return client;
}

async function call(client: Client, name: string, args: object) {
  const result = (await client.callTool({
    name,
    arguments: args as Record<string, unknown>,
  })) as CallToolResult;
  const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("");
  return { isError: result.isError === true, text };
}

describe("countersign-mcp over stdio", () => {
  it("initialize → tools/list → request_approval (pending) → approve in Slack → get_approval with wait → approved", async () => {
    const h = await harness(cleanups);
    const client = await session({ COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support });
    expect(client.getServerVersion()?.name).toBe("countersign");

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["get_approval", "request_approval"]);
    const request = tools.find((t) => t.name === "request_approval")!;
    expect(request.inputSchema.required).toEqual(["action", "summary", "params"]);
    expect(request.inputSchema.properties?.wait_seconds).toMatchObject({ minimum: 0, maximum: 60 });

    const created = await call(client, "request_approval", { ...REFUND, wait_seconds: 0 });
    expect(created.isError).toBe(false);
    const pending = JSON.parse(created.text);
    expect(pending).toMatchObject({
      status: "pending",
      resolution: null,
      comment: null,
      approval_token: null,
    });
    expect(pending.id).toMatch(/^req_/);

    await eventually(async () => (await h.service.deps.store.getRequest(pending.id))?.slackTs);
    const waiting = call(client, "get_approval", { id: pending.id, wait_seconds: 20 });
    await new Promise((r) => setTimeout(r, 200));
    await h.click("U0LEAD1", "approve", pending.id);
    const decided = JSON.parse((await waiting).text);
    expect(decided).toMatchObject({ id: pending.id, status: "approved", resolution: "approved_by_humans" });
    expect(decided.approval_token).toEqual(expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/));
  });

  it("rejected with a reason → get_approval answers the comment", async () => {
    const h = await harness(cleanups);
    const client = await session({ COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support });
    const { id } = JSON.parse((await call(client, "request_approval", REFUND)).text);
    await eventually(async () => (await h.service.deps.store.getRequest(id))?.slackTs);
    await h.click("U0LEAD2", "reject", id);
    await h.submitReject("U0LEAD2", id, "Not within policy");
    const answer = JSON.parse((await call(client, "get_approval", { id, wait_seconds: 5 })).text);
    expect(answer).toMatchObject({ status: "rejected", comment: "Not within policy", approval_token: null });
  });

  it("bad arguments, a refused body, an unknown id → tool errors naming the problem; the server keeps running", async () => {
    const h = await harness(cleanups);
    const client = await session({ COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support });
    const badWait = await call(client, "request_approval", { ...REFUND, wait_seconds: 600 });
    expect(badWait).toMatchObject({ isError: true });
    expect(badWait.text).toContain("wait_seconds");
    const noParams = await call(client, "request_approval", { action: "refund.issue", summary: "x" });
    expect(noParams.isError).toBe(true);
    expect(noParams.text).toMatch(/invalid_request.*params/);
    const badId = await call(client, "get_approval", { id: "42" });
    expect(badId).toMatchObject({ isError: true });
    expect(badId.text).toContain("id must be");
    const unknown = await call(client, "get_approval", { id: "req_doesnotexist" });
    expect(unknown.text).toContain("not_found");
    // Still answering after all of that.
    expect((await client.listTools()).tools).toHaveLength(2);
    expect(await h.service.deps.store.countByStatus()).toEqual([]);
  });

  it("a refused token and an unreachable service → tool errors, not crashes", async () => {
    const h = await harness(cleanups);
    const refused = await session({ COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: "wrong-token" });
    const denied = await call(refused, "request_approval", REFUND);
    expect(denied.isError).toBe(true);
    expect(denied.text).toContain("COUNTERSIGN_TOKEN");

    const offline = await session({
      COUNTERSIGN_URL: "http://127.0.0.1:1",
      COUNTERSIGN_TOKEN: TOKENS.support,
    });
    const unreachable = await call(offline, "get_approval", { id: "req_x" });
    expect(unreachable.isError).toBe(true);
    expect(unreachable.text).toContain("unreachable at http://127.0.0.1:1");
    expect((await offline.listTools()).tools).toHaveLength(2);
  });

  it("started without COUNTERSIGN_URL or with a bad one → exits 2 naming the setting", () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [BIN], {
        env: { PATH: process.env.PATH ?? "", ...env },
        encoding: "utf8",
      });
    const missing = run({ COUNTERSIGN_TOKEN: "t" });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("COUNTERSIGN_URL is not set");
    const bad = run({ COUNTERSIGN_URL: "ftp://x", COUNTERSIGN_TOKEN: "t" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("COUNTERSIGN_URL must be an http(s) URL");
    const noToken = run({ COUNTERSIGN_URL: "http://localhost:3000" });
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toContain("COUNTERSIGN_TOKEN is not set");
  });
});
