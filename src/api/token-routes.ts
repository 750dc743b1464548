import type { IncomingMessage, ServerResponse } from "node:http";
import { consumeBodySchema, consumeToken, reissueBodySchema } from "../approvals/consume-token.ts";
import type { Deps } from "../approvals/deps.ts";
import { reissueToken } from "../approvals/reissue-token.ts";
import type { Agent } from "../config/file.ts";
import { ApiError } from "./errors.ts";
import { parseWith, readJson, sendJson } from "./http.ts";

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  agent: Agent,
  id: string | null,
  url: URL,
) => Promise<void>;

/** POST /v1/requests/:id/token and POST /v1/tokens/consume. */
export function createTokenRoutes(
  deps: Deps,
  helpers: { notFound: (id: string | null) => ApiError; validId: (id: string | null) => string },
): { reissue: Handler; consume: Handler } {
  const reissue: Handler = async (req, res, { id: agentId }, id) => {
    // No body is expected; an empty object is accepted so generated clients may send one.
    parseWith(reissueBodySchema, await readJson(req, { emptyOk: true }));
    const result = await reissueToken(deps, agentId, helpers.validId(id));
    switch (result.kind) {
      case "reissued":
        return sendJson(res, 200, result.resource);
      case "not_found":
        throw helpers.notFound(id);
      case "conflict":
        throw new ApiError("conflict", result.message);
      case "token_used":
        throw new ApiError("token_used", result.message);
    }
  };

  const consume: Handler = async (req, res, { id: agentId }) => {
    const body = parseWith(consumeBodySchema, await readJson(req));
    const result = await consumeToken(deps, agentId, body.jti);
    switch (result.kind) {
      case "consumed":
        return sendJson(res, 200, { jti: result.jti, consumed_at: result.consumed_at });
      case "token_used":
        throw new ApiError("token_used", result.message);
    }
  };

  return { reissue, consume };
}
