import { chmodSync, closeSync, existsSync, openSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ChainVerifier } from "../../audit/verify.ts";
import { openBackupCopy } from "../../storage/open.ts";
import { type CliIo, EXIT, type ExitCode, line, UsageError } from "../io.ts";
import { cliEnv, openReadOnly } from "../settings.ts";

/**
 * `backup <path>`: SQLite's online backup API (better-sqlite3's db.backup) from a
 * read-only connection, so the copy is one consistent snapshot even while the
 * service writes; then the copy's audit chain is verified. The copy holds the
 * approval-token signing key, so it is created readable by its owner only
 * (0600), and it is a single file (rollback journal, no -wal/-shm beside it).
 */
export async function backup(io: CliIo, target: string): Promise<ExitCode> {
  if (existsSync(target)) throw new UsageError(`<path>: ${target} already exists; choose a new file`);
  const folder = dirname(resolve(target));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new UsageError(`<path>: the folder ${folder} does not exist; create it first (mkdir -p ${folder})`);
  }
  const env = cliEnv(io.env);
  if (env.databaseUrl !== null) {
    throw new UsageError(
      "DATABASE_URL: backup copies a SQLite file; back PostgreSQL up with pg_dump (then `countersign audit verify` against the restored copy)",
    );
  }
  const sqlite = openReadOnly(env);
  try {
    // Created here, owner-only, before a byte of the key is in it ('wx': never an existing file).
    try {
      closeSync(openSync(target, "wx", 0o600));
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new UsageError(`<path>: cannot create ${target} (${reason})`);
    }
    chmodSync(target, 0o600);
    await sqlite.backup(target).catch((error: unknown) => {
      rmSync(target, { force: true });
      throw error;
    });
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
