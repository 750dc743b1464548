import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { argsHash } from "./canonical.ts";
import { ApprovalTokenError } from "./errors.ts";
import type { ApprovalClaims } from "./types.ts";

export const TOKEN_TYPE = "countersign-approval+jwt";
export const DEFAULT_ISSUER = "countersign";

export interface KeySource {
  /** The service's JWKS document, fetched earlier (fully offline verification). */
  jwks?: JSONWebKeySet;
  /** Where to fetch it (`<countersign>/.well-known/jwks.json`); cached, refetched for an unknown `kid`. */
  jwksUrl?: string | URL;
}

export interface VerifyOptions extends KeySource {
  /** The action the gateway is about to execute; must equal the token's `act`. */
  action: string;
  /** The params it is about to execute with; their args hash must equal the token's. */
  params: unknown;
  /** The agent id the token was issued to (`aud`). */
  audience: string;
  /** The request id (`sub`), when the gateway knows it. */
  requestId?: string;
  /** The service's `issuer`; default `countersign`. */
  issuer?: string;
  /** Seconds of clock skew tolerated on `exp`/`iat`; default 5. */
  clockTolerance?: number;
  /** "Now" for the expiry check; the system clock by default. */
  currentDate?: Date;
}

const localSets = new WeakMap<JSONWebKeySet, JWTVerifyGetKey>();
const remoteSets = new Map<string, JWTVerifyGetKey>();

function keyResolver(source: KeySource): JWTVerifyGetKey {
  if (source.jwks) {
    let set = localSets.get(source.jwks);
    if (!set) {
      set = createLocalJWKSet(source.jwks);
      localSets.set(source.jwks, set);
    }
    return set;
  }
  if (source.jwksUrl !== undefined) {
    const url = String(source.jwksUrl);
    let set = remoteSets.get(url);
    if (!set) {
      set = createRemoteJWKSet(new URL(url));
      remoteSets.set(url, set);
    }
    return set;
  }
  throw new TypeError("verifyApprovalToken needs jwks or jwksUrl");
}

/**
 * Verifies a countersign approval token for a tool gateway: the signature against the
 * JWKS, the type, issuer, expiry, audience, action, and the args hash recomputed over
 * the params about to be executed. Returns the claims; throws ApprovalTokenError on any mismatch.
 */
export async function verifyApprovalToken(
  token: string | null | undefined,
  options: VerifyOptions,
): Promise<ApprovalClaims> {
  if (typeof token !== "string" || token === "") {
    throw new ApprovalTokenError(
      "missing",
      "no approval token: this action needs an approved countersign request",
    );
  }
  const resolver = keyResolver(options);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, resolver, {
      algorithms: ["EdDSA"],
      typ: TOKEN_TYPE,
      issuer: options.issuer ?? DEFAULT_ISSUER,
      audience: options.audience,
      clockTolerance: options.clockTolerance ?? 5,
      requiredClaims: ["sub", "aud", "exp", "iat", "jti"],
      ...(options.currentDate ? { currentDate: options.currentDate } : {}),
    }));
  } catch (error) {
    throw translate(error);
  }
  const claims = payload as unknown as ApprovalClaims;
  if (typeof claims.act !== "string" || typeof claims.args_hash !== "string") {
    throw new ApprovalTokenError("malformed", "approval token lacks the act or args_hash claim");
  }
  if (claims.act !== options.action) {
    throw new ApprovalTokenError(
      "wrong_action",
      `approval token is for action "${claims.act}", not "${options.action}"`,
    );
  }
  if (options.requestId !== undefined && claims.sub !== options.requestId) {
    throw new ApprovalTokenError(
      "wrong_request",
      `approval token is for request ${claims.sub}, not ${options.requestId}`,
    );
  }
  let hash: string;
  try {
    hash = argsHash(options.params);
  } catch (error) {
    throw new ApprovalTokenError("wrong_args", "the params have no JSON representation", { cause: error });
  }
  if (hash !== claims.args_hash) {
    throw new ApprovalTokenError(
      "wrong_args",
      `approval token covers other params (args_hash ${claims.args_hash}, these are ${hash})`,
    );
  }
  return claims;
}

function translate(error: unknown): ApprovalTokenError {
  const message =
    error instanceof Error ? `approval token refused: ${error.message}` : "approval token refused";
  const options = { cause: error };
  if (error instanceof errors.JWTExpired) return new ApprovalTokenError("expired", message, options);
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "aud":
        return new ApprovalTokenError("wrong_audience", message, options);
      case "iss":
        return new ApprovalTokenError("wrong_issuer", message, options);
      case "typ":
        return new ApprovalTokenError("wrong_type", message, options);
      case "iat":
      case "nbf":
        return new ApprovalTokenError("not_yet_valid", message, options);
      default:
        return new ApprovalTokenError("malformed", message, options);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new ApprovalTokenError("bad_signature", message, options);
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new ApprovalTokenError("unknown_key", message, options);
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new ApprovalTokenError("jwks_unavailable", message, options);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new ApprovalTokenError("wrong_type", message, options);
  if (error instanceof errors.JOSEError) return new ApprovalTokenError("malformed", message, options);
  // fetch failures of the remote JWKS surface as plain errors.
  return new ApprovalTokenError("jwks_unavailable", message, options);
}
