import { z } from "zod";
import { iso } from "../clock.ts";
import type { Deps } from "./deps.ts";

/** The body of POST /v1/tokens/consume. */
export const consumeBodySchema = z
  .object({
    jti: z.string().min(1).max(200).describe("the `jti` claim of an approval token the gateway has verified"),
  })
  .strict();

/** The body of POST /v1/requests/:id/token: none, or `{}`. */
export const reissueBodySchema = z.strictObject({});

/** The answer of a first consume. */
export const consumedSchema = z
  .object({
    jti: z.string(),
    consumed_at: z.iso.datetime().describe("when this call consumed it"),
  })
  .strict();

export type ConsumeResult =
  | ({ kind: "consumed" } & z.infer<typeof consumedSchema>)
  | { kind: "token_used"; message: string };

/**
 * Single use of an approval token, by its jti: the first caller wins, on every
 * replica, because the database's primary key on token_uses.jti decides.
 * countersign does not look the jti up among issued tokens: the gateway
 * verifies the token (signature, exp, aud, act, args_hash) first.
 */
export async function consumeToken(
  deps: Pick<Deps, "store" | "writes" | "clock">,
  agentId: string,
  jti: string,
): Promise<ConsumeResult> {
  const now = deps.clock.now();
  const won = await deps.writes.run(() =>
    deps.store.useToken({ jti, kind: "consumed", requestId: null, agent: agentId, at: now }),
  );
  if (won) return { kind: "consumed", jti, consumed_at: iso(now) };
  const use = await deps.store.tokenUse(jti);
  const when = use ? ` at ${iso(use.at)}` : "";
  return {
    kind: "token_used",
    message:
      use?.kind === "superseded"
        ? `token ${jti} was replaced by a re-issued token${when}; use the request's current approval_token`
        : `token ${jti} was already used${when}`,
  };
}
