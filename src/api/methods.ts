import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./errors.ts";

/**
 * HTTP method semantics shared by every resource the listener serves
 * (RFC 9110 §9): HEAD wherever GET is (Node sends no body for a HEAD response,
 * whatever the handler writes), OPTIONS answers 204 with `Allow`, and any
 * other method a resource does not take is a 405 naming the ones it does.
 */

/** The methods a resource implements itself (HEAD and OPTIONS follow from them). */
export type Implemented = readonly ("GET" | "POST")[];

/** The Allow header of a resource implementing `methods`. */
export function allowOf(methods: Implemented): string {
  const out: string[] = [];
  if (methods.includes("GET")) out.push("GET", "HEAD");
  if (methods.includes("POST")) out.push("POST");
  out.push("OPTIONS");
  return out.join(", ");
}

/**
 * What `method` means on a resource implementing `methods`: run one of them
 * (HEAD runs GET), answer OPTIONS, or refuse.
 */
export function resolveMethod(
  method: string,
  methods: Implemented,
): { kind: "run"; as: "GET" | "POST" } | { kind: "options" } | { kind: "not_allowed" } {
  if (method === "OPTIONS") return { kind: "options" };
  const as = method === "HEAD" ? "GET" : method;
  if (as === "GET" || as === "POST") {
    if (methods.includes(as)) return { kind: "run", as };
  }
  return { kind: "not_allowed" };
}

/** 204 No Content with `Allow`: what OPTIONS answers on a resource that exists. */
export function answerOptions(res: ServerResponse, methods: Implemented): void {
  res.writeHead(204, { allow: allowOf(methods), "cache-control": "no-store" });
  res.end();
}

/** The 405 for a resource that exists; sets `Allow` on the response as RFC 9110 asks. */
export function methodNotAllowed(
  res: ServerResponse,
  method: string,
  path: string,
  methods: Implemented,
): ApiError {
  const allow = allowOf(methods);
  res.setHeader("allow", allow);
  const use = methods.join(" or ");
  return new ApiError("method_not_allowed", `${method} is not allowed on ${path}; use ${use}`);
}

/** The method of a request as Node parsed it (always upper case; a lower-case one is a parse error). */
export const methodOf = (req: IncomingMessage): string => req.method ?? "GET";
