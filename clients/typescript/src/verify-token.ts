import { KeyObject, verify as verifySignature } from "node:crypto";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from "jose";
import { argsHash } from "./canonical.ts";
import { ApprovalTokenError, CountersignApiError, type TokenErrorReason } from "./errors.ts";
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
  /** Seconds of clock skew tolerated on `exp` (and `nbf`); default 5. */
  clockTolerance?: number;
  /** "Now" for the expiry check; the system clock by default. */
  currentDate?: Date;
  /**
   * Opt-in online single-use check: after every offline check passed, consume
   * the token's jti at countersign (`POST /v1/tokens/consume`, e.g. a
   * CountersignClient). A token used before, or replaced by a re-issue, fails
   * with reason `already_used`; when countersign cannot be asked, with
   * `consume_unavailable`. Without it, verification is offline and a token can
   * be replayed until it expires.
   */
  consume?: { consumeToken(jti: string): Promise<unknown> };
}

const localSets = new WeakMap<JSONWebKeySet, JWTVerifyGetKey>();
const remoteSets = new Map<string, JWTVerifyGetKey>();
const keyObjects = new WeakMap<object, KeyObject>();

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

const refuse = (reason: TokenErrorReason, message: string, cause?: unknown): ApprovalTokenError =>
  new ApprovalTokenError(
    reason,
    `approval token refused: ${message}`,
    cause === undefined ? undefined : { cause },
  );

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch (error) {
    throw refuse("malformed", `the ${what} is not base64url JSON`, error);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw refuse("malformed", `the ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Verifies a countersign approval token for a tool gateway: the Ed25519 signature
 * against the JWKS, the type, issuer, expiry, audience, action, and the args hash
 * recomputed over the params about to be executed. Returns the claims; throws
 * ApprovalTokenError (with a `reason`) on any mismatch.
 *
 * jose finds the key (JWKS parsing, caching, refetch on an unknown `kid`); the
 * signature is checked with node:crypto synchronously, which is about twice as fast
 * as WebCrypto's thread-pool round trip. test/client/verify-token.test.ts holds it
 * to jose's own `jwtVerify` verdicts.
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
  const parts = token.split(".");
  if (parts.length !== 3) throw refuse("malformed", "not a compact JWS (three dot-separated parts)");
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeSegment(encodedHeader, "header");
  if (header.alg !== "EdDSA" && header.alg !== "Ed25519") {
    throw refuse(
      "wrong_type",
      `alg ${JSON.stringify(header.alg)} is not allowed; countersign signs with EdDSA`,
    );
  }
  if (header.typ !== TOKEN_TYPE)
    throw refuse("wrong_type", `typ ${JSON.stringify(header.typ)} is not ${TOKEN_TYPE}`);
  if (header.crit !== undefined || header.b64 !== undefined) {
    throw refuse("malformed", "crit and b64 header parameters are not supported");
  }

  let key: KeyObject;
  try {
    const resolved = await keyResolver(options)(header as Parameters<JWTVerifyGetKey>[0], {
      payload: encodedPayload,
      signature: encodedSignature,
    });
    key = toKeyObject(resolved);
  } catch (error) {
    throw keyError(error);
  }
  const valid = verifySignature(
    null,
    Buffer.from(`${encodedHeader}.${encodedPayload}`),
    key,
    Buffer.from(encodedSignature, "base64url"),
  );
  if (!valid) throw refuse("bad_signature", "signature verification failed");

  const claims = decodeSegment(encodedPayload, "payload") as unknown as ApprovalClaims & { nbf?: unknown };
  checkClaims(claims, options);
  if (options.consume) await consumeOnce(claims.jti, options.consume);
  return claims;
}

async function consumeOnce(jti: string, consumer: NonNullable<VerifyOptions["consume"]>): Promise<void> {
  try {
    await consumer.consumeToken(jti);
  } catch (error) {
    if (error instanceof CountersignApiError && error.code === "token_used") {
      throw refuse("already_used", error.message, error);
    }
    const message = error instanceof Error ? error.message : String(error);
    throw refuse("consume_unavailable", `the single-use check failed: ${message}`, error);
  }
}

function checkClaims(claims: ApprovalClaims & { nbf?: unknown }, options: VerifyOptions): void {
  for (const name of ["sub", "aud", "jti", "act", "args_hash", "iss"] as const) {
    if (typeof claims[name] !== "string")
      throw refuse("malformed", `the "${name}" claim is missing or not a string`);
  }
  for (const name of ["iat", "exp"] as const) {
    if (typeof claims[name] !== "number" || !Number.isFinite(claims[name])) {
      throw refuse("malformed", `the "${name}" claim is missing or not a number`);
    }
  }
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  if (claims.iss !== issuer) throw refuse("wrong_issuer", `issued by "${claims.iss}", not "${issuer}"`);
  if (claims.aud !== options.audience) {
    throw refuse("wrong_audience", `issued to "${claims.aud}", not "${options.audience}"`);
  }
  const now = Math.floor((options.currentDate?.getTime() ?? Date.now()) / 1000);
  const tolerance = options.clockTolerance ?? 5;
  if (claims.exp <= now - tolerance) {
    throw refuse("expired", `expired at ${new Date(claims.exp * 1000).toISOString()}`);
  }
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || claims.nbf > now + tolerance)) {
    throw refuse("not_yet_valid", "not valid yet (nbf)");
  }
  if (claims.act !== options.action) {
    throw refuse("wrong_action", `it is for action "${claims.act}", not "${options.action}"`);
  }
  if (options.requestId !== undefined && claims.sub !== options.requestId) {
    throw refuse("wrong_request", `it is for request ${claims.sub}, not ${options.requestId}`);
  }
  let hash: string;
  try {
    hash = argsHash(options.params);
  } catch (error) {
    throw refuse("wrong_args", "the params have no canonical JSON form", error);
  }
  if (hash !== claims.args_hash) {
    throw refuse("wrong_args", `it covers other params (args_hash ${claims.args_hash}, these are ${hash})`);
  }
}

function toKeyObject(key: object): KeyObject {
  if (key instanceof KeyObject) return key;
  let object = keyObjects.get(key);
  if (!object) {
    object = KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
    keyObjects.set(key, object);
  }
  if (object.asymmetricKeyType !== "ed25519")
    throw refuse("unknown_key", "the JWKS key is not an Ed25519 key");
  return object;
}

function keyError(error: unknown): ApprovalTokenError {
  if (error instanceof ApprovalTokenError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return refuse("unknown_key", message, error);
  }
  // An unreachable or invalid JWKS: never a pass.
  return refuse("jwks_unavailable", message, error);
}
