import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import {
  BlockedTargetError,
  blockedRange,
  guardedLookup,
  literalAddress,
  type TargetPolicy,
} from "./target.ts";

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  /** Gives up on the whole exchange (timeout, shutdown). */
  signal: AbortSignal;
  /** Gives up when no connection is made within this long. */
  connectTimeoutMs: number;
  policy: TargetPolicy;
  /** Name resolution; the system's, checked against the policy, unless given. */
  lookup?: LookupFunction;
}

/** POSTs a callback; resolves with the HTTP status (the body is discarded), rejects on any failure. */
export type PostCallback = (url: string, options: PostOptions) => Promise<number>;

/**
 * One callback POST over node:http(s) on a fresh connection, with the target
 * checked where it matters: IP literals before connecting, names in the
 * agent's `lookup` (the address actually dialled). Redirects are not followed.
 */
export const postCallback: PostCallback = (text, options) =>
  new Promise<number>((resolve, reject) => {
    const url = new URL(text);
    const literal = literalAddress(url);
    const range = literal === null || options.policy.allowPrivate ? null : blockedRange(literal);
    if (literal !== null && range !== null) {
      reject(
        new BlockedTargetError(`${literal} is a ${range} address; callbacks may only reach public addresses`),
      );
      return;
    }
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = request(url, {
      method: "POST",
      headers: { ...options.headers, "content-length": String(Buffer.byteLength(options.body)) },
      lookup: options.lookup ?? guardedLookup(options.policy),
      agent: false,
      signal: options.signal,
    });
    const connectTimer = setTimeout(
      () => req.destroy(new Error(`could not connect within ${options.connectTimeoutMs} ms`)),
      options.connectTimeoutMs,
    );
    req.on("socket", (socket) => {
      socket.once(url.protocol === "https:" ? "secureConnect" : "connect", () => clearTimeout(connectTimer));
    });
    req.on("response", (res) => {
      clearTimeout(connectTimer);
      resolve(res.statusCode ?? 0);
      // Only the status matters; the connection is not reused.
      res.destroy();
    });
    req.on("error", (error) => {
      clearTimeout(connectTimer);
      reject(error);
    });
    req.end(options.body);
  });
