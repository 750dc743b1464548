import { createSigner } from "fast-jwt";
import { type AppConfig, DEFAULT_TOKEN_TTL_MS } from "../config/file.ts";
import type { KeyStore } from "../db/backend.ts";
import type { RequestRow } from "../db/schema.ts";
import { type ApprovalClaims, approvalClaims, reissuedClaims, TOKEN_TYPE } from "./claims.ts";
import { describeKey, type Jwks, publishedKeys } from "./keys.ts";

/** The longest token_ttl of any policy: how long a retired key must stay published. */
export function maxTokenTtlMs(config: Pick<AppConfig, "policies">): number {
  return Math.max(DEFAULT_TOKEN_TTL_MS, ...config.policies.map((p) => p.tokenTtlMs));
}

/**
 * Issues approval tokens and publishes the JWKS. Signing is synchronous
 * (fast-jwt over node:crypto Ed25519), so the token is written in the same
 * transaction that approves: no approved request ever lacks its token, even
 * after a kill -9. The active key is read in that transaction too, so a
 * rotation by another process (the CLI) takes effect at once.
 */
export function createTokenIssuer(deps: {
  keys: KeyStore;
  config: Pick<AppConfig, "policies" | "issuer">;
  /** PKCS#8 PEM from COUNTERSIGN_SIGNING_KEY; its private half is never stored. */
  suppliedKey: string | null;
}) {
  const { keys, config } = deps;
  const suppliedKid = deps.suppliedKey === null ? null : describeKey(deps.suppliedKey).kid;
  const ttlByPolicy = new Map(config.policies.map((p) => [p.name, p.tokenTtlMs]));
  const retainMs = maxTokenTtlMs(config);
  const signers = new Map<string, (claims: ApprovalClaims) => string>();

  const signerFor = (kid: string, storedPem: string | null) => {
    let signer = signers.get(kid);
    if (signer === undefined) {
      const pem = storedPem ?? (kid === suppliedKid ? deps.suppliedKey : null);
      if (pem === null) {
        throw new Error(
          `the active signing key ${kid} was supplied through COUNTERSIGN_SIGNING_KEY in another process; set it here too`,
        );
      }
      signer = createSigner({ key: pem, algorithm: "EdDSA", kid, header: { alg: "EdDSA", typ: TOKEN_TYPE } });
      signers.set(kid, signer);
    }
    return signer;
  };

  return {
    retainMs,
    /**
     * Inside the approving transaction: the token for `row` approved at `now`
     * by `approvers`, and what the audit records of it (kid, jti, exp).
     */
    async issueInTx(
      row: Pick<RequestRow, "id" | "agent" | "action" | "argsHash" | "approvedArgsHash" | "policy">,
      approvers: readonly string[],
      now: number,
    ): Promise<IssuedToken> {
      const active = await keys.active();
      if (!active) throw new Error("no active signing key (ensureSigningKey runs at start-up)");
      const claims = approvalClaims(row, approvers, now, {
        issuer: config.issuer,
        tokenTtlMs: ttlByPolicy.get(row.policy) ?? DEFAULT_TOKEN_TTL_MS,
      });
      const token = signerFor(active.kid, active.privateKey)(claims);
      return { token, audit: { kid: active.kid, jti: claims.jti, exp: claims.exp } };
    },
    /**
     * Inside a transaction: `previous` (a token this service signed) signed
     * again with the active key, every claim kept but `iat`, `exp` (now + the
     * same lifetime) and a fresh `jti`.
     */
    async reissueInTx(previous: string, now: number): Promise<IssuedToken & { replaces: string }> {
      const active = await keys.active();
      if (!active) throw new Error("no active signing key (ensureSigningKey runs at start-up)");
      const claims = reissuedClaims(previous, now);
      const token = signerFor(active.kid, active.privateKey)(claims.claims);
      return {
        token,
        audit: { kid: active.kid, jti: claims.claims.jti, exp: claims.claims.exp },
        replaces: claims.replaces,
      };
    },
    /** The public keys a verifier needs at `now`. */
    jwks(now: number): Promise<Jwks> {
      return publishedKeys(keys, { now, retainMs });
    },
  };
}

export type TokenIssuer = ReturnType<typeof createTokenIssuer>;

/** A signed token and the audit's record of it: enough to match a token a gateway saw to its approval. */
export interface IssuedToken {
  token: string;
  audit: { kid: string; jti: string; exp: number };
}
