/**
 * Connection errors that waiting cannot fix: retrying them for the whole
 * DATABASE_CONNECT_TIMEOUT only delays the message that names them. A server
 * that is down, starting up (57P03) or out of connections (53300) is worth
 * waiting for; these are not.
 */
const PERMANENT_SQLSTATES: Record<string, string> = {
  "3D000": "the database does not exist (create it, or fix its name in the URL)",
  "28P01": "the password was refused",
  "28000": "the server refused this user or host (pg_hba.conf, or no such role)",
  "42501": "this user may not connect to the database",
};

/** TLS verification failures: the certificate will not change by waiting. */
const PERMANENT_TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** Why `error` will not go away by retrying, or null when it might. */
export function permanentConnectError(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") {
    // node-postgres says this in words only.
    const message = error instanceof Error ? error.message : "";
    return /does not support SSL connections/.test(message)
      ? "the server does not accept TLS (check sslmode)"
      : null;
  }
  if (code in PERMANENT_SQLSTATES) return PERMANENT_SQLSTATES[code]!;
  if (PERMANENT_TLS_CODES.has(code))
    return "its TLS certificate does not verify (check sslmode and sslrootcert)";
  return null;
}
