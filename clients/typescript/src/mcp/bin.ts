#!/usr/bin/env node
/**
 * `countersign-mcp`: countersign's approval tools over MCP stdio. Reads COUNTERSIGN_URL
 * (e.g. http://localhost:3000) and COUNTERSIGN_TOKEN (the agent's bearer token).
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CountersignClient } from "../client.ts";
import { createMcpServer } from "./server.ts";

function fail(message: string): never {
  process.stderr.write(`countersign-mcp: ${message}\n`);
  process.exit(2);
}

const url = process.env.COUNTERSIGN_URL?.trim();
const token = process.env.COUNTERSIGN_TOKEN?.trim();
if (!url) fail("COUNTERSIGN_URL is not set (e.g. http://localhost:3000)");
if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
  fail(`COUNTERSIGN_URL must be an http(s) URL (got ${JSON.stringify(url)})`);
}
if (!token) fail("COUNTERSIGN_TOKEN is not set (the agent's bearer token from countersign's config)");

const server = createMcpServer({ client: new CountersignClient({ baseUrl: url, token }) });
await server.connect(new StdioServerTransport());
