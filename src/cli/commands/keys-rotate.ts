import { readFileSync } from "node:fs";
import { formatDuration } from "../../config/duration.ts";
import { createRedactor } from "../../redact.ts";
import { openStorage } from "../../storage/open.ts";
import { maxTokenTtlMs } from "../../tokens/issuer.ts";
import { describeKey, rotateSigningKey } from "../../tokens/keys.ts";
import { cliConfig } from "../config.ts";
import { type CliIo, EXIT, type ExitCode, line, UsageError } from "../io.ts";
import { cliEnv, openPostgresForCli } from "../settings.ts";

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * `keys rotate [--key file.pem]`: a new approval-token signing key becomes active
 * (src/tokens/keys.ts); the old one stays in the JWKS until every token it signed
 * has expired. Safe while the service runs (it reads the active key per approval).
 * Audited as `key_rotated`.
 */
export async function keysRotate(io: CliIo, options: { key?: string }, now: number): Promise<ExitCode> {
  const env = cliEnv(io.env);
  if (env.signingKey !== null) {
    throw new UsageError(
      "COUNTERSIGN_SIGNING_KEY is set: the service signs with that key; rotate by changing the variable and restarting",
    );
  }
  if (env.databaseUrl === null && env.databasePath === ":memory:")
    throw new UsageError("DATABASE_PATH: :memory: holds no signing key");
  const config = cliConfig(env, io.env);
  let privateKeyPem: string | undefined;
  if (options.key !== undefined) {
    try {
      privateKeyPem = readFileSync(options.key, "utf8");
      describeKey(privateKeyPem);
    } catch (error) {
      throw new UsageError(
        `--key: ${options.key} is not a readable Ed25519 private key (PKCS#8 PEM): ${(error as Error).message}`,
      );
    }
  }
  // Every replica reads the active key per approval: the next one signs with the new key.
  const backend =
    (await openPostgresForCli(env, { migrate: false })) ??
    (await openStorage(env.databasePath, { log: quiet, redact: createRedactor(config.redact) }));
  try {
    const retainMs = maxTokenTtlMs(config);
    const { store, keys } = backend;
    const result = await backend.writes.run(async () => {
      const rotated = await rotateSigningKey(keys, {
        now,
        retainMs,
        ...(privateKeyPem === undefined ? {} : { privateKeyPem }),
      });
      if (rotated.retired !== null || rotated.kid) {
        await store.audit(null, now, "key_rotated", "cli:keys-rotate", {
          kid: rotated.kid,
          retired: rotated.retired,
        });
      }
      return rotated;
    });
    line(io.stdout, `keys rotate: signing key ${result.kid} is now active`);
    line(
      io.stdout,
      result.retired === null
        ? "no key was active before"
        : `key ${result.retired} is retired and stays in /.well-known/jwks.json for ${formatDuration(retainMs)} (the longest token_ttl)`,
    );
    return EXIT.ok;
  } finally {
    await backend.close();
  }
}
