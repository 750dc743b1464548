import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { useCleanups } from "../support/cleanups.ts";

type Cleanups = ReturnType<typeof useCleanups>;

/** The bin as a published package runs it: Node itself, no loader, no npm in between. */
export const BIN = fileURLToPath(new URL("../../clients/typescript/src/mcp/bin.ts", import.meta.url));

/** A real stdio session with `countersign-mcp`, spawned as an MCP host would (the official SDK client). */
export async function session(cleanups: Cleanups, env: Record<string, string>): Promise<Client> {
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

export interface ToolAnswer {
  isError: boolean;
  text: string;
  structured: Record<string, unknown> | undefined;
}

/** tools/call through the SDK client (which validates structuredContent against the tool's outputSchema). */
export async function call(
  client: Client,
  name: string,
  args: object,
  options?: RequestOptions,
): Promise<ToolAnswer> {
  const result = (await client.callTool(
    { name, arguments: args as Record<string, unknown> },
    undefined,
    options,
  )) as CallToolResult;
  const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("");
  return {
    isError: result.isError === true,
    text,
    structured: result.structuredContent as Record<string, unknown> | undefined,
  };
}
