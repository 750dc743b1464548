import type { AppConfig } from "../config/file.ts";
import type { OpenDatabase } from "../db/open.ts";
import { createKeyStore } from "../db/signing-keys.ts";
import { maxTokenTtlMs } from "./issuer.ts";
import { rotateSigningKey } from "./keys.ts";

/**
 * `countersign keys rotate`: on an open (migrated) database, makes a new
 * active signing key — generated, or `privateKeyPem` (PKCS#8 Ed25519) when
 * given — and keeps the retired public key in the JWKS for the longest
 * token_ttl of `config`'s policies. Safe while the service runs: its next
 * approval signs with the new key. Returns the new kid and the retired one.
 */
export function rotateKeys(
  database: OpenDatabase,
  opts: { config: Pick<AppConfig, "policies">; now: number; privateKeyPem?: string },
): Promise<{ kid: string; retired: string | null }> {
  return rotateSigningKey(createKeyStore(database), {
    now: opts.now,
    retainMs: maxTokenTtlMs(opts.config),
    ...(opts.privateKeyPem === undefined ? {} : { privateKeyPem: opts.privateKeyPem }),
  });
}
