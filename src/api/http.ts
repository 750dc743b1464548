import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { ApiError, type ApiIssue, statusOf } from "./errors.ts";

export const MAX_BODY_BYTES = 256 * 1024;

/**
 * Reads the body as a stream and stops at the limit: a Content-Length over it
 * is refused before a byte is read, a chunked body as soon as it passes it.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    // The client went away mid-body: nothing to answer and nothing wrong on our side.
    const onGone = () => {
      cleanup();
      reject(new ApiError("invalid_request", "the request body was not received completely"));
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onGone);
      req.off("close", onGone);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onGone);
    req.on("close", onGone);
  });
}

const tooLarge = (limit: number) =>
  new ApiError("payload_too_large", `request body is larger than ${Math.round(limit / 1024)} KiB`);

/** Reads and parses a JSON body; an empty body is `{}` when `emptyOk`. */
export async function readJson(req: IncomingMessage, opts: { emptyOk?: boolean } = {}): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const declaredEmpty =
    req.headers["content-length"] === "0" ||
    (!req.headers["content-length"] && !req.headers["transfer-encoding"]);
  const encoding = (req.headers["content-encoding"] ?? "").trim().toLowerCase();
  if (encoding !== "" && encoding !== "identity") {
    throw new ApiError(
      "unsupported_media_type",
      `Content-Encoding "${encoding.slice(0, 40)}" is not supported; send the body uncompressed`,
    );
  }
  if (opts.emptyOk && declaredEmpty) return {};
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new ApiError(
      "unsupported_media_type",
      `Content-Type must be application/json (got ${type === "" ? "none" : `"${type}"`})`,
    );
  }
  const raw = await readBody(req);
  if (raw.length === 0) {
    if (opts.emptyOk) return {};
    throw new ApiError("invalid_json", "request body is empty; expected a JSON object");
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new ApiError("invalid_json", "request body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ApiError("invalid_json", `request body is not valid JSON: ${(error as Error).message}`);
  }
  const issues = unstorableValues(value);
  if (issues.length > 0)
    throw new ApiError("invalid_request", "request body has values that cannot be stored", issues);
  return value;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** In a `u` regex, \p{Surrogate} matches only a surrogate that is not half of a pair. */
const LONE_SURROGATE = /\p{Surrogate}/u;
const MAX_VALUE_ISSUES = 20;

/**
 * Values JSON.parse accepts that could not be stored or echoed as they were
 * sent: numbers beyond double range (`1e309` parses as Infinity) and strings
 * or keys with a lone UTF-16 surrogate (`"\ud800"`, which SQLite would store
 * as U+FFFD). Checked everywhere in the body, iteratively, before zod sees it.
 */
export function unstorableValues(value: unknown): ApiIssue[] {
  const issues: ApiIssue[] = [];
  const add = (at: PathNode | null, message: string) =>
    issues.push({ path: formatPath(pathOf(at)), message });
  // Paths as parent links, turned into strings only for an issue: a deep body costs O(size).
  const stack: [unknown, PathNode | null, number][] = [[value, null, 0]];
  for (let item = stack.pop(); item !== undefined && issues.length < MAX_VALUE_ISSUES; item = stack.pop()) {
    const [node, at, depth] = item;
    if (typeof node === "number") {
      if (!Number.isFinite(node)) add(at, "number is out of range");
    } else if (typeof node === "string") {
      if (LONE_SURROGATE.test(node)) add(at, "contains a lone UTF-16 surrogate (not valid Unicode)");
    } else if (node !== null && typeof node === "object" && depth < MAX_CHECK_DEPTH) {
      // Deeper than any field allows (params stop at 32): refused by the schema anyway.
      const entries = Array.isArray(node) ? node.entries() : Object.entries(node);
      const children: [unknown, PathNode, number][] = [];
      for (const [key, child] of entries) {
        if (typeof key === "string" && LONE_SURROGATE.test(key)) {
          add(at, "has a key with a lone UTF-16 surrogate (not valid Unicode)");
        }
        children.push([child, { key, parent: at }, depth + 1]);
      }
      for (let i = children.length - 1; i >= 0; i -= 1)
        stack.push(children[i] as [unknown, PathNode, number]);
    }
  }
  return issues;
}

interface PathNode {
  key: string | number;
  parent: PathNode | null;
}
const MAX_CHECK_DEPTH = 64;

function pathOf(node: PathNode | null): PropertyKey[] {
  const out: PropertyKey[] = [];
  for (let n = node; n !== null; n = n.parent) out.push(n.key);
  return out.reverse();
}

/** Validates with zod; failures become `invalid_request` with every issue by path. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ApiError("invalid_request", "request body is invalid", issuesOf(result.error));
}

export function issuesOf(error: z.ZodError): ApiIssue[] {
  // zod reports unknown keys once, at the enclosing object; an agent needs the key itself.
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: `unknown key "${key}"` }))
      : [{ path: formatPath(issue.path), message: issue.message }],
  );
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(body)" : out;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  const status = statusOf(error.code);
  // After a refused oversized body the rest of it is not read: close the connection.
  const headers: Record<string, string> = status === 413 ? { connection: "close" } : {};
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="countersign"';
  sendJson(
    res,
    status,
    {
      error: { code: error.code, message: error.message, ...(error.issues ? { issues: error.issues } : {}) },
    },
    headers,
  );
}
