/** Errors that mean the database server cannot be reached or take work now (not a bug, not a refusal). */

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);

/** The SQLSTATE or network code of an error or of what caused it (drizzle wraps the driver's error). */
export const codeOf = (error: unknown): string | undefined => {
  for (let e = error, depth = 0; e !== null && typeof e === "object" && depth < 5; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
};

/**
 * The server cannot be reached or refuses work for now: the connection failed or
 * was cut, the pool had no connection in time, the server is shutting down or
 * starting (57P0x), a lock was not free within the write's budget (55P03), is out of resources (53xxx: disk full, out of connections) or a connection exception (08xxx).
 */
export function isConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined) {
    if (
      NETWORK_CODES.has(code) ||
      code.startsWith("08") ||
      code.startsWith("57P") ||
      code.startsWith("53") ||
      code === "55P03"
    )
      return true;
  }
  if (error instanceof AggregateError && error.errors.some(isConnectionError)) return true;
  const message = error instanceof Error ? error.message : "";
  const lost =
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed|Client was closed/i;
  if (lost.test(message)) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== error && isConnectionError(cause);
}
