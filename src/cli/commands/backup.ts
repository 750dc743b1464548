import { existsSync } from "node:fs";
import { ChainVerifier } from "../../audit/verify.ts";
import { openBackupCopy } from "../../storage/open.ts";
import { type CliIo, EXIT, type ExitCode, line, UsageError } from "../io.ts";
import { cliEnv, openReadOnly } from "../settings.ts";

/**
 * `backup <path>`: SQLite's online backup API (better-sqlite3's db.backup) from a
 * read-only connection, so the copy is one consistent snapshot even while the
 * service writes; then the copy's audit chain is verified.
 */
export async function backup(io: CliIo, target: string): Promise<ExitCode> {
  if (existsSync(target)) throw new UsageError(`<path>: ${target} already exists; choose a new file`);
  const env = cliEnv(io.env);
  if (env.databaseUrl !== null) {
    throw new UsageError(
      "DATABASE_URL: backup copies a SQLite file; back PostgreSQL up with pg_dump (then `countersign audit verify` against the restored copy)",
    );
  }
  const sqlite = openReadOnly(env);
  try {
    await sqlite.backup(target);
  } finally {
    sqlite.close();
  }
  const copy = openBackupCopy(target);
  try {
    const verifier = new ChainVerifier({ start: "genesis" });
    for await (const row of copy.audit.iterate()) if (!verifier.push(row)) break;
    const result = verifier.finish();
    if (!result.ok) {
      line(
        io.stderr,
        `backup: written to ${target}, but its audit chain does not verify: ${result.problem.message}`,
      );
      return EXIT.failed;
    }
    line(io.stdout, `backup: written to ${target}`);
    line(
      io.stdout,
      `audit chain in the copy: ok, ${result.count} event(s); head ${result.head === null ? "none" : `event ${result.head.seq} ${result.head.hash}`}`,
    );
    return EXIT.ok;
  } finally {
    copy.close();
  }
}
