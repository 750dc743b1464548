import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  jwtVerify,
  SignJWT,
} from "jose";
import { describe, expect, it } from "vitest";
import { argsHash } from "../../src/approvals/hash.ts";
import type { KeyStore } from "../../src/db/backend.ts";
import { openDatabase } from "../../src/db/open.ts";
import { openPostgresBackend } from "../../src/db/pg/index.ts";
import { createKeyStore } from "../../src/db/signing-keys.ts";
import { maxTokenTtlMs } from "../../src/tokens/issuer.ts";
import { rotateSigningKey } from "../../src/tokens/keys.ts";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { TEST_CONFIG_YAML, testConfig } from "../support/config.ts";
import { openReader } from "../support/db-reader.ts";
import {
  eventually,
  type Harness,
  type HarnessOptions,
  postgresUrlFor,
  REFUND,
  startHarness,
  tempDir,
} from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";
import { type Receiver, startReceiver } from "../support/receiver.ts";
import { createPosted } from "../support/requests.ts";

const cleanups = useCleanups();
const MINUTE = 60_000;
const TOKEN_TYPE = "countersign-approval+jwt";
const SMALL = { ...REFUND, params: { amount: 20, currency: "USD", order_id: "48213" } };
const LARGE = { ...REFUND, params: { amount: 500, currency: "USD", order_id: "48213" } };

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const h = await startHarness(options);
  cleanups.push(() => h.stop());
  return h;
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  cleanups.push(() => r.close());
  return r;
}

async function jwksOf(h: Harness): Promise<JSONWebKeySet> {
  const res = await h.api("GET", "/.well-known/jwks.json", undefined, { token: null });
  expect(res.status).toBe(200);
  return res.json as JSONWebKeySet;
}

/** Verifies like a gateway would, with jose (independent of the signer) at the service's clock. */
async function verify(h: Harness, token: string, jwks?: JSONWebKeySet, at = h.clock.now()) {
  return jwtVerify(token, createLocalJWKSet(jwks ?? (await jwksOf(h))), {
    algorithms: ["EdDSA"],
    typ: TOKEN_TYPE,
    issuer: "countersign",
    audience: "support-bot",
    currentDate: new Date(at),
  });
}

async function approvedByHumans(h: Harness, body: Record<string, unknown>, approvers: string[]) {
  const id = await createPosted(h, body);
  for (const user of approvers) await h.click(user, "approve", id);
  await eventually(async () => (await h.service.deps.store.getRequest(id))?.status === "approved");
  return (await h.api("GET", `/v1/requests/${id}`)).json;
}

/** A compact JWS with one part replaced by base64url(JSON) of `value`. */
function withPart(token: string, index: 0 | 1, value: unknown): string {
  const parts = token.split(".");
  parts[index] = Buffer.from(JSON.stringify(value)).toString("base64url");
  return parts.join(".");
}
const partOf = (token: string, index: 0 | 1) =>
  JSON.parse(Buffer.from(token.split(".")[index] ?? "", "base64url").toString("utf8"));

/** The signing keys through a second connection to the harness's database, as the CLI opens it. */
async function otherConnection(dbPath: string): Promise<{ keys: KeyStore; close: () => Promise<void> }> {
  if (!onPostgres) {
    const database = openDatabase(dbPath);
    return { keys: createKeyStore(database), close: async () => void database.sqlite.close() };
  }
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const backend = await openPostgresBackend(await postgresUrlFor(dbPath), { log: quiet, migrate: false });
  return { keys: backend.keys, close: () => backend.close() };
}

describe("approval token claims", () => {
  it("policy approval → token with exactly the §6 header and claims, approvers empty, 15m default ttl", async () => {
    const h = await harness();
    const created = await h.create(SMALL);
    expect(created.status).toBe(201);
    const resource = created.json;
    expect(resource).toMatchObject({ status: "approved", resolution: "approved_by_policy" });
    const token = resource.approval_token as string;

    const jwks = await jwksOf(h);
    const [key] = jwks.keys;
    expect(jwks.keys).toHaveLength(1);
    expect(key).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: expect.any(String),
      kid: expect.any(String),
      alg: "EdDSA",
      use: "sig",
    });
    // The kid is the RFC 7638 thumbprint, as jose computes it.
    expect(key?.kid).toBe(await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: key?.x as string }));

    expect(decodeProtectedHeader(token)).toEqual({ alg: "EdDSA", kid: key?.kid, typ: TOKEN_TYPE });
    const { payload } = await verify(h, token, jwks);
    const iat = Math.floor(h.clock.now() / 1000);
    expect(payload).toEqual({
      iss: "countersign",
      sub: resource.id,
      aud: "support-bot",
      act: "refund.issue",
      args_hash: argsHash(SMALL.params),
      iat,
      exp: iat + 15 * 60,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      policy: "small-refunds",
      approvers: [],
    });
    expect(payload.args_hash).toBe(resource.args_hash);
    // The audit's approved event names the token, so a token a gateway saw can be traced to its approval.
    const approvedEvent = (await h.service.deps.store.auditFor(resource.id)).find(
      (a) => a.event === "approved",
    );
    expect(JSON.parse(approvedEvent?.detail ?? "{}").token).toEqual({
      kid: key?.kid,
      jti: payload.jti,
      exp: payload.exp,
    });
    // The same token on every read.
    expect((await h.api("GET", `/v1/requests/${resource.id}`)).json.approval_token).toBe(token);
  });

  it("2-of-3 human approval → approvers in vote order, iat = approval time, policy token_ttl honoured", async () => {
    const yaml = TEST_CONFIG_YAML.replace(
      "    approvals: 2\n",
      "    approvals: 2\n    token_ttl: 2m\n",
    ).replace("agents:\n", "issuer: https://countersign.example.com\nagents:\n");
    const h = await harness({ config: testConfig(yaml) });
    const id = await createPosted(h, LARGE);
    await h.click("U0FIN2", "approve", id);
    await eventually(async () => (await h.service.deps.store.decisionsFor(id)).length === 1);
    const half = await h.api("GET", `/v1/requests/${id}`);
    expect(half.json).toMatchObject({ status: "pending", approval_token: null });

    h.clock.advance(MINUTE);
    await h.click("U0FIN1", "approve", id);
    await eventually(async () => (await h.service.deps.store.getRequest(id))?.status === "approved");
    const resource = (await h.api("GET", `/v1/requests/${id}`)).json;
    const { payload } = await jwtVerify(resource.approval_token, createLocalJWKSet(await jwksOf(h)), {
      typ: TOKEN_TYPE,
      issuer: "https://countersign.example.com",
      audience: "support-bot",
      currentDate: new Date(h.clock.now()),
    });
    const iat = Math.floor(h.clock.now() / 1000);
    expect(payload).toMatchObject({
      sub: id,
      policy: "large-refunds",
      approvers: ["U0FIN2", "U0FIN1"],
      iat,
      exp: iat + 120,
      args_hash: argsHash(LARGE.params),
    });
    const approvedEvent = (await h.service.deps.store.auditFor(id)).find((a) => a.event === "approved");
    expect(JSON.parse(approvedEvent?.detail ?? "{}")).toMatchObject({
      resolution: "approved_by_humans",
      token: { jti: payload.jti, exp: payload.exp },
    });
  });

  it("exp is honoured: valid a second before, refused at exp", async () => {
    const h = await harness();
    const token = (await h.create(SMALL)).json.approval_token as string;
    const jwks = await jwksOf(h);
    const { payload } = await verify(h, token, jwks);
    const exp = (payload.exp as number) * 1000;
    await expect(verify(h, token, jwks, exp - 1000)).resolves.toBeDefined();
    await expect(verify(h, token, jwks, exp)).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it("a tampered header, claim or signature is refused; so is a token signed by another key under the same kid", async () => {
    const h = await harness();
    const token = (await h.create(SMALL)).json.approval_token as string;
    const jwks = await jwksOf(h);
    await expect(verify(h, token, jwks)).resolves.toBeDefined();

    const header = partOf(token, 0);
    const claims = partOf(token, 1);
    const tampered = [
      withPart(token, 0, { ...header, typ: "JWT" }),
      withPart(token, 0, { ...header, alg: "none" }),
      withPart(token, 1, { ...claims, args_hash: argsHash({ amount: 20000 }) }),
      withPart(token, 1, { ...claims, exp: claims.exp + 3600 }),
      withPart(token, 1, { ...claims, aud: "deploy-bot" }),
      `${token.slice(0, -4)}${token.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`,
    ];
    for (const bad of tampered) await expect(verify(h, bad, jwks)).rejects.toThrow();

    const { privateKey } = generateKeyPairSync("ed25519");
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid: header.kid, typ: TOKEN_TYPE })
      .sign(privateKey);
    await expect(verify(h, forged, jwks)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it("token is null while pending and after reject, expiry and cancel; approved by humans carries one", async () => {
    const h = await harness();
    const pending = await createPosted(h);
    expect((await h.api("GET", `/v1/requests/${pending}`)).json.approval_token).toBeNull();

    const rejected = await createPosted(h);
    await h.submitReject("U0LEAD1", rejected, "no");
    const cancelled = await createPosted(h);
    await h.api("POST", `/v1/requests/${cancelled}/cancel`);
    const byPolicy = await h.create({ ...REFUND, action: "db.drop_table", params: {} });
    expect(byPolicy.json).toMatchObject({ status: "rejected", approval_token: null });
    h.clock.advance(31 * MINUTE);
    await h.service.sweepNow();
    for (const [id, status] of [
      [pending, "expired"],
      [rejected, "rejected"],
      [cancelled, "cancelled"],
    ]) {
      const res = await h.api("GET", `/v1/requests/${id}`);
      expect(res.json).toMatchObject({ status, approval_token: null });
      expect((await h.service.deps.store.getRequest(id as string))?.approvalToken).toBeNull();
    }
    const approved = await approvedByHumans(h, REFUND, ["U0LEAD1"]);
    expect((await verify(h, approved.approval_token)).payload.approvers).toEqual(["U0LEAD1"]);
  });

  it("callback body carries the token of the approved resource", async () => {
    const h = await harness();
    const hook = await receiver();
    const created = await h.create({ ...SMALL, callback_url: hook.url });
    const [delivery] = await hook.waitForDeliveries(1);
    const body = JSON.parse(delivery?.body ?? "{}");
    expect(body.data.approval_token).toBe(created.json.approval_token);
    await expect(verify(h, body.data.approval_token)).resolves.toBeDefined();

    const id = await createPosted(h, { ...REFUND, callback_url: hook.url });
    await h.click("U0LEAD2", "approve", id);
    const [, second] = await hook.waitForDeliveries(2);
    const data = JSON.parse(second?.body ?? "{}").data;
    expect(data).toMatchObject({ id, status: "approved" });
    expect((await verify(h, data.approval_token)).payload).toMatchObject({ sub: id, approvers: ["U0LEAD2"] });
  });
});

describe("GET /.well-known/jwks.json", () => {
  it("no auth, cacheable by gateways for minutes, 405 for other methods, HEAD answered", async () => {
    const h = await harness();
    const res = await h.api("GET", "/.well-known/jwks.json", undefined, { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const post = await h.api("POST", "/.well-known/jwks.json", {}, { token: null });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(post.json.error.code).toBe("method_not_allowed");
    const head = await fetch(`${h.url}/.well-known/jwks.json`, { method: "HEAD" });
    expect(head.status).toBe(200);
  });
});

describe("signing keys", () => {
  it("the key is created once and survives a restart (file database); old tokens still verify", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dbPath = join(t.dir, "countersign.db");
    const clock = new FakeClock();
    const first = await startHarness({ dbPath, clock });
    const token = (await first.create(SMALL)).json.approval_token as string;
    const before = await jwksOf(first);
    await first.stop();

    const second = await harness({ dbPath, clock });
    expect(await jwksOf(second)).toEqual(before);
    await expect(verify(second, token)).resolves.toBeDefined();
    const again = (await second.create(SMALL)).json.approval_token as string;
    expect(decodeProtectedHeader(again).kid).toBe(before.keys[0]?.kid);
  });

  it("rotation (from another connection, like the CLI) → new tokens use the new kid, old ones verify until every token of the old key expired", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dbPath = join(t.dir, "countersign.db");
    const h = await harness({ dbPath });
    const oldToken = (await h.create(SMALL)).json.approval_token as string;
    const oldKid = decodeProtectedHeader(oldToken).kid;

    const cli = await otherConnection(dbPath);
    cleanups.push(cli.close);
    const rotated = await rotateSigningKey(cli.keys, {
      now: h.clock.now(),
      retainMs: maxTokenTtlMs(h.config),
    });
    expect(rotated.retired).toBe(oldKid);

    const newToken = (await h.create(SMALL)).json.approval_token as string;
    expect(decodeProtectedHeader(newToken).kid).toBe(rotated.kid);
    const jwks = await jwksOf(h);
    expect(jwks.keys.map((k) => k.kid)).toEqual([rotated.kid, oldKid]);
    await expect(verify(h, oldToken, jwks)).resolves.toBeDefined();
    await expect(verify(h, newToken, jwks)).resolves.toBeDefined();

    // Once every token the old key signed has expired, the JWKS drops it.
    h.clock.advance(15 * MINUTE - 1000);
    expect((await jwksOf(h)).keys.map((k) => k.kid)).toEqual([rotated.kid, oldKid]);
    h.clock.advance(1000);
    expect((await jwksOf(h)).keys.map((k) => k.kid)).toEqual([rotated.kid]);
  });

  it("COUNTERSIGN_SIGNING_KEY → tokens signed by that key, its private half never stored; the stored key stays published", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dbPath = join(t.dir, "countersign.db");
    const clock = new FakeClock();
    const first = await startHarness({ dbPath, clock });
    const storedToken = (await first.create(SMALL)).json.approval_token as string;
    await first.stop();

    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pem = String(privateKey.export({ format: "pem", type: "pkcs8" }));
    const h = await harness({ dbPath, clock, signingKey: pem });
    const expectedKid = await calculateJwkThumbprint(publicKey.export({ format: "jwk" }) as { kty: string });
    const token = (await h.create(SMALL)).json.approval_token as string;
    expect(decodeProtectedHeader(token).kid).toBe(expectedKid);
    // Verified against the operator's own public key, not only the JWKS.
    await expect(
      jwtVerify(token, publicKey, { typ: TOKEN_TYPE, currentDate: new Date(clock.now()) }),
    ).resolves.toBeDefined();
    await expect(verify(h, storedToken)).resolves.toBeDefined();

    const check = await otherConnection(dbPath);
    cleanups.push(check.close);
    const rows = await check.keys.all();
    expect(rows.find((r) => r.kid === expectedKid)).toMatchObject({ privateKey: null, retiredAt: null });
    expect(JSON.stringify(rows)).not.toContain(pem.split("\n")[1]);
  });

  it("upgrade: an approved request stored before tokens existed gets one at start-up, as of its approval", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dbPath = join(t.dir, "countersign.db");
    const clock = new FakeClock();
    const first = await startHarness({ dbPath, clock });
    const byPolicy = (await first.create(SMALL)).json;
    const byHumans = await approvedByHumans(first, REFUND, ["U0LEAD2"]);
    const pending = (await first.create()).json;
    await first.stop();
    // What a database from before this version holds: approved, no token.
    const old = await openReader(dbPath, { writable: true });
    expect(await old.run("UPDATE requests SET approval_token = NULL")).toBe(3);
    await old.close();

    clock.advance(60 * MINUTE);
    const h = await harness({ dbPath, clock });
    const jwks = await jwksOf(h);
    for (const [resource, approvers] of [
      [byPolicy, []],
      [byHumans, ["U0LEAD2"]],
    ] as const) {
      const token = (await h.api("GET", `/v1/requests/${resource.id}`)).json.approval_token;
      const at = Date.parse(resource.decided_at);
      const { payload } = await verify(h, token, jwks, at);
      expect(payload).toMatchObject({ sub: resource.id, approvers, iat: Math.floor(at / 1000) });
      // Issued as of the approval an hour ago: already expired now.
      await expect(verify(h, token, jwks)).rejects.toBeInstanceOf(errors.JWTExpired);
    }
    expect((await h.api("GET", `/v1/requests/${pending.id}`)).json.approval_token).toBeNull();
    expect(h.logs.join("")).toContain("issued approval tokens for requests approved before tokens existed");
    expect(
      (await h.service.deps.store.auditFor(byHumans.id)).filter((a) => a.event === "token_issued"),
    ).toHaveLength(1);
  });

  it("a token from another agent's approval does not verify for this agent (aud)", async () => {
    const h = await harness();
    const token = (await h.create(SMALL)).json.approval_token as string;
    await expect(
      jwtVerify(token, createLocalJWKSet(await jwksOf(h)), {
        audience: "deploy-bot",
        currentDate: new Date(h.clock.now()),
      }),
    ).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
  });
});
