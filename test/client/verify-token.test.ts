import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import {
  type CryptoKey,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JWK,
  jwtVerify,
  SignJWT,
} from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ApprovalTokenError,
  argsHash,
  type TokenErrorReason,
  verifyApprovalToken,
} from "../../clients/typescript/src/index.ts";
import { useCleanups } from "../support/cleanups.ts";

const cleanups = useCleanups();

const PARAMS = { amount: 75, currency: "USD", order_id: "48213" };
const NOW = new Date("2026-11-22T10:00:00.000Z");
const SECONDS = Math.floor(NOW.getTime() / 1000);

let privateKey: CryptoKey;
let otherPrivateKey: CryptoKey;
let jwks: { keys: JWK[] };

beforeAll(async () => {
  const pair = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  privateKey = pair.privateKey;
  otherPrivateKey = (await generateKeyPair("EdDSA", { crv: "Ed25519" })).privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "EdDSA", use: "sig" }] };
});

/** A token shaped like CONTRACT §6, with overrides. */
function sign(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key: CryptoKey = privateKey,
): Promise<string> {
  return new SignJWT({
    iss: "countersign",
    sub: "req_1",
    aud: "support-bot",
    act: "refund.issue",
    args_hash: argsHash(PARAMS),
    iat: SECONDS,
    exp: SECONDS + 15 * 60,
    jti: "jti_1",
    policy: "medium-refunds",
    approvers: ["U0LEAD1"],
    ...claims,
  })
    .setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: "countersign-approval+jwt", ...header })
    .sign(key);
}

const expected = { action: "refund.issue", params: PARAMS, audience: "support-bot", currentDate: NOW };

async function reasonOf(promise: Promise<unknown>): Promise<TokenErrorReason> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApprovalTokenError);
  return (error as ApprovalTokenError).reason;
}

describe("verifyApprovalToken (offline, against a JWKS)", () => {
  it("a valid token for these params, action and audience → its claims", async () => {
    const claims = await verifyApprovalToken(await sign(), { jwks, ...expected });
    expect(claims).toMatchObject({
      sub: "req_1",
      aud: "support-bot",
      act: "refund.issue",
      approvers: ["U0LEAD1"],
    });
  });

  it("params in another key order are the same params (canonical JSON)", async () => {
    const reordered = { order_id: "48213", currency: "USD", amount: 75 };
    await expect(
      verifyApprovalToken(await sign(), { jwks, ...expected, params: reordered }),
    ).resolves.toBeTruthy();
  });

  it("refuses: other params, other action, other audience, other request, other issuer", async () => {
    const token = await sign();
    expect(
      await reasonOf(verifyApprovalToken(token, { jwks, ...expected, params: { ...PARAMS, amount: 7500 } })),
    ).toBe("wrong_args");
    expect(await reasonOf(verifyApprovalToken(token, { jwks, ...expected, action: "refund.void" }))).toBe(
      "wrong_action",
    );
    expect(await reasonOf(verifyApprovalToken(token, { jwks, ...expected, audience: "deploy-bot" }))).toBe(
      "wrong_audience",
    );
    expect(await reasonOf(verifyApprovalToken(token, { jwks, ...expected, requestId: "req_2" }))).toBe(
      "wrong_request",
    );
    expect(await reasonOf(verifyApprovalToken(token, { jwks, ...expected, issuer: "other" }))).toBe(
      "wrong_issuer",
    );
  });

  it("refuses: expired (beyond the tolerance), issued in the future, missing token", async () => {
    const token = await sign();
    const later = new Date(NOW.getTime() + 15 * 60_000 + 6_000);
    expect(await reasonOf(verifyApprovalToken(token, { jwks, ...expected, currentDate: later }))).toBe(
      "expired",
    );
    const within = new Date(NOW.getTime() + 15 * 60_000 + 4_000);
    await expect(
      verifyApprovalToken(token, { jwks, ...expected, currentDate: within }),
    ).resolves.toBeTruthy();
    expect(await reasonOf(verifyApprovalToken(null, { jwks, ...expected }))).toBe("missing");
  });

  it("refuses: signed by another key, tampered claims, tampered header, wrong typ, alg none, garbage", async () => {
    expect(
      await reasonOf(verifyApprovalToken(await sign({}, {}, otherPrivateKey), { jwks, ...expected })),
    ).toBe("bad_signature");
    const [header, payload, signature] = (await sign()).split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, args_hash: argsHash({ amount: 7500 }) })).toString(
      "base64url",
    );
    expect(
      await reasonOf(verifyApprovalToken(`${header}.${forged}.${signature}`, { jwks, ...expected })),
    ).toBe("bad_signature");
    const otherKid = Buffer.from(
      JSON.stringify({ alg: "EdDSA", kid: "k2", typ: "countersign-approval+jwt" }),
    ).toString("base64url");
    expect(
      await reasonOf(verifyApprovalToken(`${otherKid}.${payload}.${signature}`, { jwks, ...expected })),
    ).toBe("unknown_key");
    expect(await reasonOf(verifyApprovalToken(await sign({}, { typ: "JWT" }), { jwks, ...expected }))).toBe(
      "wrong_type",
    );
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "countersign-approval+jwt" })).toString(
      "base64url",
    );
    expect(await reasonOf(verifyApprovalToken(`${none}.${payload}.`, { jwks, ...expected }))).toBe(
      "wrong_type",
    );
    expect(await reasonOf(verifyApprovalToken("not.a.token", { jwks, ...expected }))).toBe("malformed");
  });

  it("jwksUrl: fetched once and cached across verifications", async () => {
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    const token = await sign();
    for (let i = 0; i < 5; i += 1) await verifyApprovalToken(token, { jwksUrl, ...expected });
    expect(fetches).toBe(1);
  });

  it("jwksUrl that cannot be reached → jwks_unavailable, not a pass", async () => {
    const token = await sign();
    expect(
      await reasonOf(
        verifyApprovalToken(token, { jwksUrl: "http://127.0.0.1:1/.well-known/jwks.json", ...expected }),
      ),
    ).toBe("jwks_unavailable");
  });

  it("accepts exactly what jose's jwtVerify accepts (same key, typ, issuer, audience, tolerance, now), fast-check", async () => {
    const joseKeys = createLocalJWKSet(jwks);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          exp: fc.constantFrom(-100, -6, -5, -4, 0, 1, 900),
          iat: fc.constantFrom(-10, 0, 4, 5, 6, 100),
          aud: fc.constantFrom("support-bot", "deploy-bot"),
          iss: fc.constantFrom("countersign", "someone-else"),
          typ: fc.constantFrom("countersign-approval+jwt", "JWT"),
          otherKey: fc.boolean(),
          flip: fc.constantFrom("none", "header", "payload", "signature"),
        }),
        async ({ exp, iat, aud, iss, typ, otherKey, flip }) => {
          let token = await sign(
            { exp: SECONDS + exp, iat: SECONDS + iat, aud, iss },
            { typ },
            otherKey ? otherPrivateKey : privateKey,
          );
          if (flip !== "none") {
            const parts = token.split(".");
            const i = flip === "header" ? 0 : flip === "payload" ? 1 : 2;
            const part = parts[i]!;
            parts[i] = `${part.slice(0, 10)}${part[10] === "A" ? "B" : "A"}${part.slice(11)}`;
            token = parts.join(".");
          }
          const jose = await jwtVerify(token, joseKeys, {
            algorithms: ["EdDSA"],
            typ: "countersign-approval+jwt",
            issuer: "countersign",
            audience: "support-bot",
            clockTolerance: 5,
            currentDate: NOW,
          }).then(
            () => "accepted",
            () => "refused",
          );
          const ours = await verifyApprovalToken(token, { jwks, ...expected }).then(
            () => "accepted",
            () => "refused",
          );
          expect(ours).toBe(jose);
        },
      ),
      { numRuns: 300 },
    );
  });
});
