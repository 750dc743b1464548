import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { expect } from "vitest";
import { parseConfig } from "../../src/config/file.ts";
import { SECRETS, TEST_CONFIG_YAML, TOKENS } from "../support/config.ts";
import { openReader } from "../support/db-reader.ts";
import { type Harness, type HarnessOptions, startHarness, tempDir } from "../support/harness.ts";

export interface RowCounts {
  requests: number;
  audit_log: number;
  slack_outbox: number;
  callbacks: number;
  decisions: number;
}

/** A harness on a temp-file database, with a second read-only connection for counting rows (SQLite or PostgreSQL). */
export interface ApiHarness extends Harness {
  counts(): Promise<RowCounts>;
  /** Waits for the background queues to go quiet, then counts: a stable baseline to compare a refusal against. */
  baseline(): Promise<RowCounts>;
  /** The audit events of one request, oldest first. */
  auditEvents(id: string): Promise<string[]>;
  /** Runs a refused call and proves that no row was written anywhere. */
  refused<T>(call: () => Promise<T>): Promise<T>;
}

const TABLES = ["requests", "audit_log", "slack_outbox", "callbacks", "decisions"] as const;

export async function startApi(options: Omit<HarnessOptions, "dbPath"> = {}): Promise<ApiHarness> {
  const { dir, cleanup } = tempDir();
  const dbPath = join(dir, "countersign.db");
  const h = await startHarness({ ...options, dbPath });
  const reader = await openReader(dbPath);
  const counts = async (): Promise<RowCounts> => {
    const out = {} as RowCounts;
    for (const table of TABLES) out[table] = await reader.count(table);
    return out;
  };
  const stop = h.stop;
  const harness: ApiHarness = Object.assign(h, {
    counts,
    async baseline() {
      // Callbacks to unreachable hosts retry on the fake clock and never drain, so wait only
      // until none is due and nothing is in flight (on PostgreSQL a claimed callback is leased,
      // not due, while its attempt runs): then no row changes by itself.
      const { store } = h.service.deps;
      const deadline = Date.now() + 3000;
      const busy = async () =>
        (await store.outboxDepth()) > 0 ||
        (await store.dueCallbacks(h.clock.now(), 1)).length > 0 ||
        h.service.inFlight() > 0;
      while (await busy()) {
        if (Date.now() > deadline) throw new Error("background queues did not go quiet");
        h.service.kick();
        await new Promise((r) => setTimeout(r, 10));
      }
      return counts();
    },
    async refused<T>(call: () => Promise<T>): Promise<T> {
      const before = await harness.baseline();
      const res = await call();
      expect(await counts()).toEqual(before);
      return res;
    },
    async auditEvents(id: string) {
      const rows = await reader.all<{ event: string }>(
        "SELECT event FROM audit_log WHERE request_id = ? ORDER BY id",
        [id],
      );
      return rows.map((r) => r.event);
    },
    async stop() {
      await reader.close();
      try {
        await stop();
      } finally {
        cleanup();
      }
    },
  });
  return harness;
}

/** The contract's error body, exactly: `{ error: { code, message, issues? } }` and nothing else. */
export function expectError(
  res: { status: number; json: unknown; headers: Headers | IncomingHttpHeaders },
  status: number,
  code: string,
): { code: string; message: string; issues?: { path: string; message: string }[] } {
  expect(res.status).toBe(status);
  const contentType =
    res.headers instanceof Headers ? res.headers.get("content-type") : res.headers["content-type"];
  expect(contentType).toMatch(/^application\/json/);
  const body = res.json as {
    error: { code: string; message: string; issues?: { path: string; message: string }[] };
  };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  const keys = Object.keys(body.error).sort();
  expect(keys).toEqual(body.error.issues === undefined ? ["code", "message"] : ["code", "issues", "message"]);
  if (body.error.issues !== undefined) {
    expect(Array.isArray(body.error.issues)).toBe(true);
    for (const issue of body.error.issues) {
      expect(Object.keys(issue).sort()).toEqual(["message", "path"]);
      expect(typeof issue.path).toBe("string");
      expect(typeof issue.message).toBe("string");
    }
  }
  return body.error;
}

/** The `path` of every issue of an invalid_request answer. */
export function issuePaths(res: { status: number; json: unknown; headers: Headers }): string[] {
  const error = expectError(res, 400, "invalid_request");
  expect(error.issues).toBeDefined();
  return (error.issues ?? []).map((i) => i.path);
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
  json: any;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string | number>;
  /** Sent with a Content-Length (unless headers say otherwise). */
  body?: string | Buffer;
  /** Sent chunked (no Content-Length), one write per chunk, stopping as soon as an answer arrives. */
  chunks?: Iterable<Buffer>;
  /** Send only the headers and wait for the answer (for a declared Content-Length that is never sent). */
  headersOnly?: boolean;
}

/** One HTTP request with node:http, for what fetch cannot express (no Content-Type, chunked, a lying Content-Length). */
export function rawRequest(baseUrl: string, r: RawRequest): Promise<RawResponse> {
  const url = new URL(r.path, baseUrl);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      {
        method: r.method,
        hostname: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        headers: r.headers,
        agent: false,
      },
      (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(parts).toString("utf8");
          let json: unknown = null;
          try {
            json = text === "" ? null : JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          req.destroy();
        });
      },
    );
    // Writes after the server refused and closed are expected to fail; only a missing answer is an error.
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (r.headersOnly) {
      req.flushHeaders();
      return;
    }
    if (r.chunks) {
      const iterator = r.chunks[Symbol.iterator]();
      const pump = () => {
        if (answered || req.destroyed) return;
        const next = iterator.next();
        if (next.done) {
          req.end();
          return;
        }
        if (req.write(next.value)) setImmediate(pump);
        else req.once("drain", pump);
      };
      pump();
      return;
    }
    req.end(r.body);
  });
}

export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** The test config plus a catch-all policy routed to support-lead, so any valid body is accepted. */
export function catchAllConfig() {
  const yaml = TEST_CONFIG_YAML.replace(
    "\nredact:",
    "\n  - name: everything-else\n    match: {}\n    route: support-lead\n    ttl: 2h\nredact:",
  );
  const result = parseConfig(yaml, {
    SUPPORT_TOKEN: TOKENS.support,
    SUPPORT_SECRET: SECRETS.support,
    DEPLOY_TOKEN: TOKENS.deploy,
  });
  if (!result.ok) throw new Error(`catch-all config invalid: ${JSON.stringify(result.problems)}`);
  return result.config;
}

export const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const ARGS_HASH = /^sha256:[0-9a-f]{64}$/;
