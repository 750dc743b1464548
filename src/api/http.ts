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
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
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
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (error) {
    throw new ApiError("invalid_json", `request body is not valid JSON: ${(error as Error).message}`);
  }
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
  // Only `unavailable` is a 503: nothing was stored, the same call may succeed in a second.
  if (status === 503) headers["retry-after"] = "1";
  sendJson(
    res,
    status,
    {
      error: { code: error.code, message: error.message, ...(error.issues ? { issues: error.issues } : {}) },
    },
    headers,
  );
}
