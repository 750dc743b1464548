import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { isFutureTimestamp } from "../slack/timestamp-guard.ts";
import { ApiError } from "./errors.ts";
import { sendError } from "./http.ts";

export interface FrontDoorOptions {
  /** Paths where Slack posts signed requests (HTTP mode); empty in Socket Mode. */
  slackEndpoints: readonly string[];
  /** Wall-clock ms: Slack's timestamps are compared with our clock, not the domain's. */
  now: () => number;
  log: Logger;
}

/**
 * Checks every request before Bolt sees it, for what Bolt gets wrong:
 * a path that is not valid percent-encoding (Bolt's route matching throws on
 * it: a 500 in HTTP mode, an unhandled rejection in Socket Mode) is a 400 in
 * the contract's shape, and a Slack request dated more than five minutes ahead
 * is a 401, exactly like a stale one (Bolt checks only the past).
 */
export function frontDoor(inner: RequestListener, options: FrontDoorOptions): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req.url ?? "/");
    if (path === null) {
      req.resume();
      sendError(
        res,
        new ApiError("invalid_request", "the request path is not valid percent-encoding", [
          { path: "(path)", message: "malformed percent-encoding" },
        ]),
      );
      return;
    }
    if (
      req.method === "POST" &&
      options.slackEndpoints.includes(path) &&
      isFutureTimestamp(req.headers["x-slack-request-timestamp"], options.now())
    ) {
      options.log.warn(
        { timestamp: req.headers["x-slack-request-timestamp"] },
        "Slack request refused: x-slack-request-timestamp is more than 5 minutes in the future",
      );
      req.resume();
      res.writeHead(401).end();
      return;
    }
    inner(req, res);
  };
}

/** The decoded-checkable path of a request target, or null when it cannot be parsed or decoded. */
function pathOf(target: string): string | null {
  try {
    const { pathname } = new URL(target, "http://localhost");
    decodeURIComponent(pathname);
    return pathname;
  } catch {
    return null;
  }
}

/**
 * Requests Node's parser refuses (a lowercase method, a broken request line or
 * header) get a 400 in the contract's JSON shape instead of a bare parser answer.
 */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({
      error: { code: "invalid_request", message: `malformed HTTP request (${error.code ?? "parse error"})` },
    });
    // A HEAD response never carries a body, even this one (strict clients read it as the next response).
    const raw = (error as { rawPacket?: Buffer }).rawPacket;
    const head = raw !== undefined && raw.subarray(0, 5).toString("latin1") === "HEAD ";
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${head ? "" : body}`,
    );
  });
}
