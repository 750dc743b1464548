import { generateKeyPairSync } from "node:crypto";
import { calculateJwkThumbprint } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { openPostgresBackend } from "../../src/storage/pg/index.ts";
import type { KeyStore } from "../../src/storage/ports.ts";
import { createKeyStore } from "../../src/storage/sqlite/keys.ts";
import { openDatabase } from "../../src/storage/sqlite/open.ts";
import {
  describeKey,
  ensureSigningKey,
  generateSigningKey,
  publishedKeys,
  rotateSigningKey,
} from "../../src/tokens/keys.ts";
import { freshPostgresUrl, onPostgres } from "../support/postgres.ts";

const MINUTE = 60_000;
const T0 = Date.parse("2026-11-22T10:00:00.000Z");
let close: (() => Promise<void> | void) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});
/** An empty, migrated key store on the database under test (SQLite in memory, or a fresh PostgreSQL database). */
async function keyStore(): Promise<KeyStore> {
  if (onPostgres) {
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const backend = await openPostgresBackend(await freshPostgresUrl(), { log: quiet, poolSize: 2 });
    close = () => backend.close();
    return backend.keys;
  }
  const database = openDatabase(":memory:");
  close = () => void database.sqlite.close();
  return createKeyStore(database);
}
const kids = async (keys: KeyStore, now: number, retainMs = 15 * MINUTE) =>
  (await publishedKeys(keys, { now, retainMs })).keys.map((k) => k.kid);

describe("signing keys", () => {
  it("kid is the RFC 7638 thumbprint (as jose computes it)", async () => {
    const pem = generateSigningKey();
    const { kid, x } = describeKey(pem);
    expect(kid).toBe(await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x }));
  });

  it("first start creates one key; later starts keep it", async () => {
    const keys = await keyStore();
    const first = await ensureSigningKey(keys, { now: T0, retainMs: 15 * MINUTE, supplied: null });
    expect(first.created).toBe(true);
    const again = await ensureSigningKey(keys, { now: T0 + MINUTE, retainMs: 15 * MINUTE, supplied: null });
    expect(again).toEqual({ kid: first.kid, created: false });
    expect(await keys.all()).toHaveLength(1);
  });

  it("the database refuses a second active key", async () => {
    const keys = await keyStore();
    await ensureSigningKey(keys, { now: T0, retainMs: 15 * MINUTE, supplied: null });
    const { kid, x } = describeKey(generateSigningKey());
    const refused = await keys
      .insert({ kid, x, privateKey: null, createdAt: T0, retiredAt: null, publishUntil: null })
      .then(
        () => null,
        (error: Error) => error,
      );
    // SQLite: "UNIQUE constraint failed"; PostgreSQL (wrapped by drizzle): "duplicate key … unique constraint".
    expect(`${refused?.message} ${String(refused?.cause)}`).toMatch(/unique constraint/i);
    expect(await keys.all()).toHaveLength(1);
  });

  it("rotation to a given key; the old key is published for retainMs after retirement, then dropped", async () => {
    const keys = await keyStore();
    const { kid: old } = await ensureSigningKey(keys, { now: T0, retainMs: 15 * MINUTE, supplied: null });
    const pem = generateSigningKey();
    const rotated = await rotateSigningKey(keys, {
      now: T0 + MINUTE,
      retainMs: 30 * MINUTE,
      privateKeyPem: pem,
    });
    expect(rotated).toEqual({ kid: describeKey(pem).kid, retired: old });
    expect((await keys.active())?.privateKey).toBe(pem);
    // publish_until was fixed at rotation (30m); a later, shorter config does not cut it short.
    expect(await kids(keys, T0 + 30 * MINUTE, 5 * MINUTE)).toEqual([rotated.kid, old]);
    expect(await kids(keys, T0 + 31 * MINUTE, 5 * MINUTE)).toEqual([rotated.kid]);
    // …and a longer one keeps it longer.
    expect(await kids(keys, T0 + 31 * MINUTE, 60 * MINUTE)).toEqual([rotated.kid, old]);
  });

  it("rotating back to a key used before is refused and changes nothing", async () => {
    const keys = await keyStore();
    const pem = generateSigningKey();
    await rotateSigningKey(keys, { now: T0, retainMs: MINUTE, privateKeyPem: pem });
    const second = await rotateSigningKey(keys, { now: T0 + 1, retainMs: MINUTE });
    await expect(
      rotateSigningKey(keys, { now: T0 + 2, retainMs: MINUTE, privateKeyPem: pem }),
    ).rejects.toThrow(/used before/);
    expect((await keys.active())?.kid).toBe(second.kid);
  });

  it("a supplied key becomes active without its private half; removing it later creates a stored key again", async () => {
    const keys = await keyStore();
    const { kid: stored } = await ensureSigningKey(keys, { now: T0, retainMs: 15 * MINUTE, supplied: null });
    const supplied = String(
      generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }),
    );
    const env = await ensureSigningKey(keys, { now: T0 + MINUTE, retainMs: 15 * MINUTE, supplied });
    expect(await keys.active()).toMatchObject({ kid: env.kid, privateKey: null });
    expect(await kids(keys, T0 + MINUTE)).toEqual([env.kid, stored]);

    const after = await ensureSigningKey(keys, {
      now: T0 + 2 * MINUTE,
      retainMs: 15 * MINUTE,
      supplied: null,
    });
    expect(after.created).toBe(true);
    expect((await keys.active())?.kid).toBe(after.kid);
    expect(await kids(keys, T0 + 2 * MINUTE)).toEqual([after.kid, env.kid, stored]);
  });
});
