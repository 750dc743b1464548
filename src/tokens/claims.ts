import { randomUUID } from "node:crypto";
import { approvedArgsHash as approvedVersion } from "../approvals/approved-version.ts";
import type { DecisionRow, RequestRow } from "../db/schema.ts";

/** The `typ` of every approval token's header (CONTRACT §6). */
export const TOKEN_TYPE = "countersign-approval+jwt";

/** The claims of an approval token (CONTRACT §6). Times are seconds since the epoch. */
export interface ApprovalClaims {
  iss: string;
  /** The request id. */
  sub: string;
  /** The agent id. */
  aud: string;
  act: string;
  args_hash: string;
  iat: number;
  exp: number;
  jti: string;
  policy: string;
  /** Slack ids of the approvers; empty for a policy decision. */
  approvers: string[];
}

/**
 * The args hash a token binds: the one place that decides it, so an
 * approve-with-edits (which approves other params) changes only this.
 */
export function approvedArgsHash(row: Pick<RequestRow, "argsHash" | "approvedArgsHash">): string {
  return approvedVersion(row);
}

/** Claims for `row` approved at `now` by `approvers`. */
export function approvalClaims(
  row: Pick<RequestRow, "id" | "agent" | "action" | "argsHash" | "approvedArgsHash" | "policy">,
  approvers: readonly string[],
  now: number,
  opts: { issuer: string; tokenTtlMs: number },
): ApprovalClaims {
  const iat = Math.floor(now / 1000);
  return {
    iss: opts.issuer,
    sub: row.id,
    aud: row.agent,
    act: row.action,
    args_hash: approvedArgsHash(row),
    iat,
    exp: iat + Math.ceil(opts.tokenTtlMs / 1000),
    jti: randomUUID(),
    policy: row.policy,
    approvers: [...approvers],
  };
}

/** The `approvers` claim: Slack ids of the approve votes, in the order they were cast. */
export function approverIds(decisions: readonly Pick<DecisionRow, "decision" | "approverId">[]): string[] {
  return decisions.filter((d) => d.decision === "approve").map((d) => d.approverId);
}

/** The jti of a token this service signed (its payload is read, not verified: it came from our own row). */
export function jtiOf(token: string): string {
  return payloadOf(token).jti;
}

/**
 * The claims of a re-issued token: those of `previous` unchanged but `iat`
 * (now), `exp` (now + the previous token's lifetime) and a new `jti`.
 */
export function reissuedClaims(previous: string, now: number): { claims: ApprovalClaims; replaces: string } {
  const old = payloadOf(previous);
  const iat = Math.floor(now / 1000);
  return {
    claims: { ...old, iat, exp: iat + (old.exp - old.iat), jti: randomUUID() },
    replaces: old.jti,
  };
}

function payloadOf(token: string): ApprovalClaims {
  const payload = token.split(".")[1];
  if (payload === undefined) throw new Error("stored approval token is not a compact JWS");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as ApprovalClaims;
  if (typeof claims.jti !== "string" || typeof claims.iat !== "number" || typeof claims.exp !== "number") {
    throw new Error("stored approval token lacks jti, iat or exp");
  }
  return claims;
}
