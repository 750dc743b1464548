/**
 * 8. Client token verification: `verifyApprovalToken` from @countersign/client, as a
 * tool gateway runs it (JWKS already fetched), on one core, in this process. The bar
 * is 10k/s; the same run also times a bare Ed25519 signature check (node:crypto,
 * no JWT parsing, no args hash) on the same token, the floor any verifier pays.
 */
import { createPublicKey, verify } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { argsHash, verifyApprovalToken } from "../clients/typescript/src/index.ts";
import { type BenchContext, pick } from "./lib/context.ts";
import { atLeast, info, type Metric } from "./lib/report.ts";

const B = "verify";
const PARAMS = {
  amount: 75,
  currency: "USD",
  order_id: "48213",
  reason: "defective blender",
  lines: [1, 2, 3],
};

async function opsPerSecond(n: number, op: () => unknown): Promise<number> {
  for (let i = 0; i < Math.min(1000, n); i += 1) await op(); // warm-up
  const started = performance.now();
  for (let i = 0; i < n; i += 1) await op();
  return n / ((performance.now() - started) / 1000);
}

export async function clientVerifyBench(ctx: BenchContext): Promise<Metric[]> {
  const n = pick(ctx.size, { tiny: 200, quick: 5_000, full: 30_000 });
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const jwk = { ...(await exportJWK(publicKey)), kid: "bench", alg: "EdDSA", use: "sig" };
  const jwks = { keys: [jwk] };
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    act: "refund.issue",
    args_hash: argsHash(PARAMS),
    policy: "medium-refunds",
    approvers: ["U0LEAD1"],
  })
    .setProtectedHeader({ alg: "EdDSA", kid: "bench", typ: "countersign-approval+jwt" })
    .setIssuer("countersign")
    .setSubject("req_bench")
    .setAudience("support-bot")
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .setJti("bench")
    .sign(privateKey);
  const options = { jwks, action: "refund.issue", params: PARAMS, audience: "support-bot" };
  await verifyApprovalToken(token, options); // fails loudly if the token is not accepted

  ctx.say(`verifying ${n.toLocaleString("en-US")} tokens`);
  const rate = await opsPerSecond(n, () => verifyApprovalToken(token, options));
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const data = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, "base64url");
  const bare = await opsPerSecond(n, () => verify(null, data, key, sig));
  const metrics = [
    atLeast(B, "verifyApprovalToken (JWKS in hand)", rate, "/s", 10_000),
    info(B, "bare Ed25519 verify, same token", bare, "/s"),
    info(
      B,
      "verifyApprovalToken / bare Ed25519",
      rate / bare,
      "×",
      "the share of the floor the client reaches",
    ),
  ];
  for (const m of metrics) ctx.emit(m);
  return metrics;
}
