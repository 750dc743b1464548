import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "../domain/canonical-json.ts";
import type { SigningKeyRecord } from "../domain/records.ts";
import type { KeyStore } from "../storage/ports.ts";

/** An Ed25519 public key as the JWKS publishes it (CONTRACT §6). */
export const publicJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().describe("the public key, base64url"),
  kid: z.string().describe("RFC 7638 JWK thumbprint"),
  alg: z.literal("EdDSA"),
  use: z.literal("sig"),
});
export type PublicJwk = z.infer<typeof publicJwkSchema>;

/** GET /.well-known/jwks.json */
export const jwksSchema = z.object({ keys: z.array(publicJwkSchema) });
export type Jwks = z.infer<typeof jwksSchema>;

/** The public half of an Ed25519 private key: `x` (base64url) and its RFC 7638 thumbprint as `kid`. */
export function describeKey(privateKeyPem: string): { kid: string; x: string } {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(`signing key must be Ed25519, not ${key.asymmetricKeyType ?? "a symmetric key"}`);
  }
  const jwk = createPublicKey(key).export({ format: "jwk" });
  const x = String(jwk.x);
  return { kid: thumbprint(x), x };
}

/**
 * RFC 7638 thumbprint of an OKP key: SHA-256 over the required members in
 * lexicographic order with no whitespace, which is exactly their RFC 8785 form.
 */
export function thumbprint(x: string): string {
  return createHash("sha256")
    .update(canonicalJson({ crv: "Ed25519", kty: "OKP", x }))
    .digest("base64url");
}

/** A fresh Ed25519 key as PKCS#8 PEM. */
export function generateSigningKey(): string {
  const { privateKey }: { privateKey: KeyObject } = generateKeyPairSync("ed25519");
  return String(privateKey.export({ format: "pem", type: "pkcs8" }));
}

export interface KeyOptions {
  now: number;
  /**
   * How long a retired key stays in the JWKS: the longest token_ttl of the
   * policies (see maxTokenTtlMs), so every token it signed expires first.
   */
  retainMs: number;
}

/**
 * At start-up, in one transaction: makes sure there is an active key. Without
 * `supplied` a stored key is kept or, on first start, created and stored. With
 * `supplied` (COUNTERSIGN_SIGNING_KEY) that key becomes the active one; only its
 * public half is stored, and the key it replaces stays published until its tokens expire.
 */
export function ensureSigningKey(
  keys: KeyStore,
  opts: KeyOptions & { supplied: string | null },
): Promise<{ kid: string; created: boolean }> {
  return keys.tx(async () => {
    const active = await keys.active();
    if (opts.supplied !== null) {
      const { kid, x } = describeKey(opts.supplied);
      if (active?.kid === kid) return { kid, created: false };
      if (active) await keys.retire(active.kid, opts.now, opts.now + opts.retainMs);
      if (await keys.byKid(kid)) await keys.reactivate(kid);
      else await keys.insert(newRow(kid, x, null, opts.now));
      return { kid, created: false };
    }
    // A key that lived only in the environment cannot sign once the variable is gone.
    if (active && active.privateKey !== null) return { kid: active.kid, created: false };
    if (active) await keys.retire(active.kid, opts.now, opts.now + opts.retainMs);
    return { kid: await storeNewKey(keys, generateSigningKey(), opts.now), created: true };
  });
}

/**
 * Makes a new active key (generated, or `privateKeyPem` when given) and retires
 * the current one, which stays in the JWKS for `retainMs` so every token it
 * signed can still be verified. Safe while the service runs: it reads the active
 * key in each approving transaction. Returns the new and the retired kid.
 */
export function rotateSigningKey(
  keys: KeyStore,
  opts: KeyOptions & { privateKeyPem?: string },
): Promise<{ kid: string; retired: string | null }> {
  const pem = opts.privateKeyPem ?? generateSigningKey();
  const { kid } = describeKey(pem);
  return keys.tx(async () => {
    const active = await keys.active();
    if (active?.kid === kid) return { kid, retired: null };
    if (active) await keys.retire(active.kid, opts.now, opts.now + opts.retainMs);
    if (await keys.byKid(kid)) throw new Error(`key ${kid} was used before; rotate to a new key`);
    await storeNewKey(keys, pem, opts.now);
    return { kid, retired: active?.kid ?? null };
  });
}

async function storeNewKey(keys: KeyStore, pem: string, now: number): Promise<string> {
  const { kid, x } = describeKey(pem);
  await keys.insert(newRow(kid, x, pem, now));
  return kid;
}

const newRow = (kid: string, x: string, privateKey: string | null, now: number): SigningKeyRecord => ({
  kid,
  x,
  privateKey,
  createdAt: now,
  retiredAt: null,
  publishUntil: null,
});

/**
 * The JWKS: the active key first, then retired keys whose tokens may still be
 * valid. `retainMs` (today's longest token_ttl) also covers a key retired under
 * a configuration with shorter TTLs.
 */
export async function publishedKeys(keys: KeyStore, opts: KeyOptions): Promise<Jwks> {
  const rows = (await keys.all())
    .filter(
      (row) =>
        row.retiredAt === null || opts.now < Math.max(row.publishUntil ?? 0, row.retiredAt + opts.retainMs),
    )
    .sort((a, b) => (a.retiredAt === null ? -1 : b.retiredAt === null ? 1 : b.retiredAt - a.retiredAt));
  return {
    keys: rows.map((row) => ({
      kty: "OKP",
      crv: "Ed25519",
      x: row.x,
      kid: row.kid,
      alg: "EdDSA",
      use: "sig",
    })),
  };
}
