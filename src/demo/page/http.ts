import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";

/** Small HTTP helpers for the simulator's JSON endpoints. */

export type Answer = { status: number; body: unknown };

const MAX_BODY = 64 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
  return true;
}

/** JSON when it parses, else the text itself (countersign's errors are JSON; Bolt's acks are often empty). */
export function parseJson(text: string): unknown {
  try {
    return text === "" ? null : JSON.parse(text);
  } catch {
    return text;
  }
}

/** A JSON object body of at most 64 KiB, or undefined. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  const parsed = parseJson(Buffer.concat(chunks).toString("utf8"));
  return typeof parsed === "object" && parsed !== null ? parsed : undefined;
}

export const invalid = (error: z.ZodError): Answer => ({
  status: 400,
  body: {
    error: "invalid",
    issues: error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
  },
});
