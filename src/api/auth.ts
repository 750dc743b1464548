import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Agent } from "../config/file.ts";
import { ApiError } from "./errors.ts";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Bearer-token authentication. Tokens are compared as SHA-256 digests with
 * timingSafeEqual against every agent, so timing tells nothing about a token.
 */
export function createAuthenticator(agents: readonly Agent[]) {
  const known = agents.map((agent) => ({ agent, digest: digest(agent.token) }));
  return (req: IncomingMessage): Agent => {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      throw new ApiError(
        "unauthorized",
        "missing or malformed Authorization header; expected: Bearer <agent token>",
      );
    }
    const presented = digest(match[1]);
    let found: Agent | null = null;
    for (const k of known) if (timingSafeEqual(k.digest, presented)) found = k.agent;
    if (found === null) throw new ApiError("unauthorized", "unknown agent token");
    return found;
  };
}
