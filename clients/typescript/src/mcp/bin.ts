#!/usr/bin/env node
/**
 * `countersign-mcp`: countersign's approval tools over MCP stdio. Reads COUNTERSIGN_URL
 * (e.g. http://localhost:3000) and COUNTERSIGN_TOKEN (the agent's bearer token).
 * Stdout carries JSON-RPC only: anything else written there would break the client.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CountersignClient } from "../client.ts";
import { createMcpServer } from "./server.ts";

// A stray console.log from a dependency must never corrupt the JSON-RPC stream.
for (const method of ["log", "info", "debug", "warn"] as const) {
  console[method] = (...args: unknown[]) => console.error(...args);
}

function fail(message: string): never {
  process.stderr.write(`countersign-mcp: ${message}\n`);
  process.exit(2);
}

function seconds(name: string, fallback: number | undefined, min: number): number | undefined {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min)
    fail(`${name} must be a number of seconds ≥ ${min} (got ${JSON.stringify(raw)})`);
  return value;
}

const url = process.env.COUNTERSIGN_URL?.trim();
const token = process.env.COUNTERSIGN_TOKEN?.trim();
if (!url) fail("COUNTERSIGN_URL is not set (e.g. http://localhost:3000)");
if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
  fail(`COUNTERSIGN_URL must be an http(s) URL (got ${JSON.stringify(url)})`);
}
if (!token) fail("COUNTERSIGN_TOKEN is not set (the agent's bearer token from countersign's config)");
const callBudgetSeconds = seconds("COUNTERSIGN_MCP_CALL_SECONDS", 50, 1);
const progressSeconds = seconds("COUNTERSIGN_MCP_PROGRESS_SECONDS", 10, 0.1);
const permissionWaitSeconds = seconds("COUNTERSIGN_MCP_PERMISSION_WAIT_SECONDS", undefined, 1);

const server = createMcpServer({
  client: new CountersignClient({ baseUrl: url, token }),
  ...(callBudgetSeconds === undefined ? {} : { callBudgetSeconds }),
  ...(progressSeconds === undefined ? {} : { progressIntervalMs: progressSeconds * 1000 }),
  ...(permissionWaitSeconds === undefined ? {} : { permissionWaitSeconds }),
});
await server.connect(new StdioServerTransport());
