import { isConnectionError } from "./connection-errors.ts";

/**
 * The database cannot store anything right now, on either database (another
 * process holds SQLite's write lock past the budget, the disk is full, the
 * file is read-only, the PostgreSQL server cannot be reached or takes no work):
 * nothing of the write was stored, the caller may try again later.
 * `code` is the driver's code when there is one (`SQLITE_BUSY`, a SQLSTATE).
 */
export class StoreUnavailable extends Error {
  readonly code: string | null;
  constructor(message: string, code: string | null, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = "StoreUnavailable";
  }
}

/** SQLite result codes that mean "someone else holds the lock": worth waiting for. */
export const isBusy = (code: string | null): boolean =>
  code !== null && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));

/** SQLite result codes that mean the database cannot take writes now (no point retrying at once). */
const SQLITE_UNAVAILABLE = [
  "SQLITE_FULL",
  "SQLITE_IOERR",
  "SQLITE_READONLY",
  "SQLITE_CANTOPEN",
  "SQLITE_NOMEM",
];

/** The SQLite result code of a driver error, or null. */
export function sqliteCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : null;
}

/**
 * Whether an error means "the database could not store it now" rather than a
 * bug, whichever database raised it: the one test every transport uses to
 * answer 503 / "not stored, try again".
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailable) return true;
  if (isConnectionError(error)) return true;
  const code = sqliteCode(error);
  return code !== null && (isBusy(code) || SQLITE_UNAVAILABLE.some((c) => code.startsWith(c)));
}
