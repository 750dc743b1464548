import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  ApprovalTokenError,
  argsHash,
  guard,
  type RequestResource,
} from "../../clients/typescript/src/index.ts";
import { useCleanups } from "../support/cleanups.ts";
import { REFUND } from "./helpers.ts";

/**
 * Approve-with-edits (CONTRACT §9) is not in the service yet, so these tests answer
 * guard() from a stand-in that speaks the contract: an approved resource whose
 * `approved_params` differ from `params`, and a token bound to one or the other.
 */
const cleanups = useCleanups();
const EDITED = { amount: 60, currency: "USD", order_id: "48213" };

let privateKey: CryptoKey;
let jwks: { keys: JWK[] };
beforeAll(async () => {
  const pair = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  privateKey = pair.privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "EdDSA", use: "sig" }] };
});

async function standIn(tokenParams: Record<string, unknown>) {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    act: "refund.issue",
    args_hash: argsHash(tokenParams),
    policy: "p",
    approvers: ["U0LEAD1"],
  })
    .setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: "countersign-approval+jwt" })
    .setIssuer("countersign")
    .setSubject("req_edit")
    .setAudience("support-bot")
    .setIssuedAt(now)
    .setExpirationTime(now + 900)
    .setJti("j1")
    .sign(privateKey);
  const resource = {
    id: "req_edit",
    status: "approved",
    action: "refund.issue",
    params: REFUND.params,
    args_hash: argsHash(REFUND.params),
    approved_params: EDITED,
    approved_args_hash: argsHash(EDITED),
    agent: "support-bot",
    decisions: [
      { decision: "approve", approver: { slack_user_id: "U0LEAD1", name: "lead" }, comment: null, at: "x" },
    ],
    resolution: "approved_by_humans",
    outcome: null,
    approval_token: token,
  } as unknown as RequestResource;
  const outcomes: unknown[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const send = (status: number, json: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
      if (req.url === "/.well-known/jwks.json") return send(200, jwks);
      if (req.url === "/v1/requests/req_edit/outcome") {
        outcomes.push(JSON.parse(body));
        return send(200, resource);
      }
      if (req.url === "/v1/requests") return send(201, resource);
      return send(404, { error: { code: "not_found", message: "no" } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, outcomes };
}

describe("guard() after an approve-with-edits", () => {
  it("fn gets the approver's edited params (the token binds them), not the proposed ones", async () => {
    const { baseUrl, outcomes } = await standIn(EDITED);
    const fn = vi.fn(async (params: Record<string, unknown>) => params.amount);
    await expect(guard(REFUND, fn, { baseUrl, token: "t" })).resolves.toBe(60);
    expect(fn).toHaveBeenCalledWith(EDITED, expect.anything());
    expect(outcomes).toEqual([{ status: "succeeded" }]);
  });

  it("a token bound to the proposed params while edits were approved → ApprovalTokenError wrong_args; fn never runs", async () => {
    const { baseUrl, outcomes } = await standIn(REFUND.params);
    const fn = vi.fn();
    const error = await guard(REFUND, fn, { baseUrl, token: "t" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApprovalTokenError);
    expect((error as ApprovalTokenError).reason).toBe("wrong_args");
    expect(fn).not.toHaveBeenCalled();
    expect(outcomes).toEqual([]);
  });
});
