import { describe, expect, it } from "vitest";
import { permanentConnectError } from "../../src/storage/pg/connect-errors.ts";
import { openPostgres } from "../../src/storage/pg/index.ts";
import { freshPostgresUrl, onPostgres, withDatabase } from "../support/postgres.ts";

function recorder() {
  const lines: string[] = [];
  const push = (...args: unknown[]) =>
    void lines.push(args.map((a) => (typeof a === "string" ? a : "")).join(" "));
  return { lines, log: { info: push, warn: push, error: push } };
}

describe("permanentConnectError: which connection errors waiting cannot fix", () => {
  it("a missing database, a refused password or role, a certificate that does not verify → a reason; a down or busy server → null", () => {
    const coded = (code: string) => Object.assign(new Error("x"), { code });
    expect(permanentConnectError(coded("3D000"))).toContain("the database does not exist");
    expect(permanentConnectError(coded("28P01"))).toContain("password");
    expect(permanentConnectError(coded("28000"))).toContain("pg_hba.conf");
    expect(permanentConnectError(coded("DEPTH_ZERO_SELF_SIGNED_CERT"))).toContain("TLS certificate");
    expect(permanentConnectError(new Error("The server does not support SSL connections"))).toContain("TLS");
    for (const transient of ["ECONNREFUSED", "ETIMEDOUT", "57P03", "53300", "ENOTFOUND"]) {
      expect(permanentConnectError(coded(transient)), transient).toBeNull();
    }
    expect(permanentConnectError(new Error("Connection terminated unexpectedly"))).toBeNull();
  });
});

describe.skipIf(!onPostgres)("start-up against a database that does not exist", () => {
  it("DATABASE_URL naming a missing database → fails at the first attempt naming it, no waiting", async () => {
    const url = withDatabase(await freshPostgresUrl(), "countersign_no_such_db");
    const { lines, log } = recorder();
    const error = await openPostgres(url, { log, connectTimeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^PostgreSQL at [\w.]+:\d+: the database does not exist/);
    expect((error as Error).message).toContain('"countersign_no_such_db"');
    expect(lines.filter((l) => l.includes("waiting for PostgreSQL"))).toEqual([]);
  });
});
