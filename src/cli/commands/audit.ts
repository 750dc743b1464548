import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { finished } from "node:stream/promises";
import { ExportFormatError, readExport, verifyModeOf, writeExport } from "../../audit/export.ts";
import { ChainVerifier, type VerifyResult } from "../../audit/verify.ts";
import type { Backend } from "../../storage/ports.ts";
import { type CliIo, EXIT, type ExitCode, line, UsageError } from "../io.ts";
import { cliEnv, openPostgresForCli, openReadOnly } from "../settings.ts";

export interface VerifyOptions {
  file?: string;
  anchor?: string;
}

const ANCHOR = /^sha256:[0-9a-f]{64}$/;

/** `audit verify`: walks the chain (database or export) row by row and names the first bad event. */
export async function auditVerify(io: CliIo, options: VerifyOptions): Promise<ExitCode> {
  // A mistyped or shortened anchor is bad usage, not a chain that lost its head.
  if (options.anchor !== undefined && !ANCHOR.test(options.anchor)) {
    throw new UsageError(
      `--anchor: must be a whole head hash, sha256: and 64 hex digits, as audit verify prints it (got ${options.anchor.length} characters)`,
    );
  }
  if (options.file !== undefined) return verifyFile(io, options.file, options.anchor ?? null);
  const env = cliEnv(io.env);
  const postgres = await openPostgresForCli(env, { migrate: false });
  if (postgres !== null) {
    try {
      const verifier = new ChainVerifier({ start: "genesis", anchor: options.anchor ?? null });
      for await (const row of postgres.audit.iterate()) if (!verifier.push(row)) break;
      return report(io, verifier.finish(), "genesis");
    } finally {
      await postgres.close();
    }
  }
  const sqlite = openReadOnly(env);
  try {
    const verifier = new ChainVerifier({ start: "genesis", anchor: options.anchor ?? null });
    for await (const row of sqlite.audit.iterate()) if (!verifier.push(row)) break;
    return report(io, verifier.finish(), "genesis");
  } finally {
    sqlite.close();
  }
}

async function verifyFile(io: CliIo, path: string, anchor: string | null): Promise<ExitCode> {
  if (!existsSync(path)) throw new UsageError(`--file: ${path} does not exist`);
  const input = createReadStream(path);
  try {
    const { header, rows } = await readExport(input);
    const mode = verifyModeOf(header);
    const verifier = new ChainVerifier({ start: mode, anchor });
    for await (const row of rows) if (!verifier.push(row)) break;
    return report(io, verifier.finish(), mode);
  } catch (error) {
    if (!(error instanceof ExportFormatError)) throw error;
    line(io.stderr, `audit verify: FAILED: ${path}: ${error.message}`);
    return EXIT.failed;
  } finally {
    input.destroy();
  }
}

function report(io: CliIo, result: VerifyResult, mode: "genesis" | "first" | "unlinked"): ExitCode {
  if (!result.ok) {
    line(
      io.stderr,
      `audit verify: FAILED (${result.problem.kind}) at event ${result.problem.seq}: ${result.problem.message}`,
    );
    line(io.stderr, `  ${result.count} event(s) checked up to there`);
    return EXIT.failed;
  }
  line(io.stdout, `audit verify: ok, ${result.count} event(s) checked`);
  if (result.head === null) line(io.stdout, "head: none (the log is empty)");
  else line(io.stdout, `head: event ${result.head.seq} ${result.head.hash}`);
  if (mode === "first" && result.start !== null) {
    line(io.stdout, `starts from prev_hash ${result.start} (check it against the head you anchored before)`);
  }
  if (mode === "unlinked") {
    line(
      io.stdout,
      "note: a --request export holds a selection; each event's hash was checked, not the links between them",
    );
  }
  return EXIT.ok;
}

export interface ExportOptions {
  since?: string;
  request?: string;
  output?: string;
}

/** `audit export`: JSON Lines (a header, then one event per line with its hashes), streamed. */
export async function auditExport(io: CliIo, options: ExportOptions): Promise<ExitCode> {
  let sinceMs: number | null = null;
  if (options.since !== undefined) {
    sinceMs = Date.parse(options.since);
    if (!/^\d{4}-\d{2}-\d{2}/.test(options.since) || Number.isNaN(sinceMs)) {
      throw new UsageError(
        `--since: ${JSON.stringify(options.since)} is not an ISO 8601 time such as 2026-12-01T00:00:00Z`,
      );
    }
  }
  const env = cliEnv(io.env);
  const postgres = await openPostgresForCli(env, { migrate: false });
  const sqlite = postgres === null ? openReadOnly(env) : null;
  try {
    const out = options.output === undefined ? io.stdout : createWriteStream(options.output);
    const header = {
      since: sinceMs === null ? null : new Date(sinceMs).toISOString(),
      request: options.request ?? null,
    };
    const query = { sinceMs, requestId: options.request ?? null };
    const n = await writeExport((sqlite?.audit ?? (postgres as Backend).audit).iterate(query), header, out);
    if (out !== io.stdout) {
      out.end();
      await finished(out);
    }
    line(
      options.output === undefined ? io.stderr : io.stdout,
      `audit export: ${n} event(s) written${options.output === undefined ? "" : ` to ${options.output}`}`,
    );
    return EXIT.ok;
  } finally {
    sqlite?.close();
    await postgres?.close();
  }
}
