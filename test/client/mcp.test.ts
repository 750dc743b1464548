import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TOOLS } from "../../clients/typescript/src/mcp/server.ts";
import { useCleanups } from "../support/cleanups.ts";
import { TOKENS } from "../support/config.ts";
import { eventually } from "../support/harness.ts";
import { harness, REFUND } from "./helpers.ts";
import { BIN, call as callTool, session as spawnSession } from "./mcp-session.ts";

const cleanups = useCleanups();
const session = (env: Record<string, string>) => spawnSession(cleanups, env);
const call = (client: Parameters<typeof callTool>[0], name: string, args: object) =>
  callTool(client, name, args);

describe("countersign-mcp over stdio", () => {
  it("initialize → tools/list → request_approval (pending) → approve in Slack → get_approval with wait → approved", async () => {
    const h = await harness(cleanups);
    const client = await session({ COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support });
    expect(client.getServerVersion()?.name).toBe("countersign");

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "get_approval",
      "permission_prompt",
      "request_approval",
    ]);
    const request = tools.find((t) => t.name === "request_approval")!;
    expect(request.inputSchema.required).toEqual(["action", "summary", "params"]);
    expect(request.inputSchema.properties?.wait_seconds).toMatchObject({ minimum: 0, maximum: 3600 });

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
    const badWait = await call(client, "request_approval", { ...REFUND, wait_seconds: 3601 });
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
    expect((await client.listTools()).tools).toHaveLength(3);
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
    expect((await offline.listTools()).tools).toHaveLength(3);
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

  it("tools/list: every input property described, annotations, an outputSchema on every tool", async () => {
    const h = await harness(cleanups);
    const client = await session({ COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support });
    const { tools } = await client.listTools();
    const undescribed: string[] = [];
    const walk = (schema: Record<string, unknown>, path: string) => {
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [name, property] of Object.entries(properties)) {
        if (typeof property.description !== "string" || property.description.length < 5) {
          undescribed.push(`${path}.${name}`);
        }
        walk(property, `${path}.${name}`);
        if (property.items && typeof property.items === "object") {
          walk(property.items as Record<string, unknown>, `${path}.${name}[]`);
        }
      }
    };
    for (const tool of tools) walk(tool.inputSchema, tool.name);
    expect(undescribed).toEqual([]);
    expect(
      Object.keys(tools.find((t) => t.name === "request_approval")!.inputSchema.properties ?? {}),
    ).toHaveLength(14);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.get_approval?.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: true });
    expect(byName.request_approval?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
    });
    expect(byName.permission_prompt?.annotations).toMatchObject({ readOnlyHint: false });
    for (const tool of tools) expect(tool.outputSchema?.type, tool.name).toBe("object");
    // The listed tools are the module's TOOLS, unchanged on the wire.
    expect(tools).toEqual(JSON.parse(JSON.stringify(TOOLS)));
  });

  it("answers carry structuredContent (validated by the SDK client against outputSchema) equal to the JSON text", async () => {
    const h = await harness(cleanups);
    const client = await session({ COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support });
    const created = await call(client, "request_approval", REFUND);
    expect(created.structured).toEqual(JSON.parse(created.text));
    expect(created.structured).toMatchObject({
      status: "pending",
      next: expect.stringContaining("get_approval"),
    });
    const read = await call(client, "get_approval", { id: created.structured?.id });
    expect(read.structured).toMatchObject({ id: created.structured?.id, status: "pending" });
    const small = await call(client, "request_approval", {
      ...REFUND,
      params: { ...REFUND.params, amount: 30 },
    });
    expect(small.structured).toMatchObject({
      status: "approved",
      resolution: "approved_by_policy",
      approver: null,
      approval_token: expect.any(String),
      next: null,
    });
  });

  it("stdout carries JSON-RPC only: the bin, and `npm run --silent mcp` (no npm banner)", async () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const transcripts = await Promise.all(
      [
        [process.execPath, [BIN]],
        [npm, ["run", "--silent", "mcp"]],
      ].map(
        ([command, args]) =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(command as string, args as string[], {
              cwd: root,
              env: { ...process.env, COUNTERSIGN_URL: "http://127.0.0.1:1", COUNTERSIGN_TOKEN: "t" },
            });
            let out = "";
            child.stdout.on("data", (chunk) => {
              out += chunk;
              if (out.split("\n").length > 2) child.kill();
            });
            child.on("error", reject);
            child.on("close", () => resolve(out));
            const init = {
              jsonrpc: "2.0",
              id: 1,
              method: "initialize",
              params: {
                protocolVersion: "2025-06-18",
                capabilities: {},
                clientInfo: { name: "t", version: "1" },
              },
            };
            child.stdin.write(`${JSON.stringify(init)}\n`);
            child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" })}\n`);
          }),
      ),
    );
    for (const out of transcripts) {
      const lines = out.split("\n").filter((line) => line !== "");
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" });
    }
  }, 30_000);
});
