import Database from "better-sqlite3";
import type { AuditEvent } from "../../src/audit/events.ts";
import { ChainVerifier, type VerifyOptions, type VerifyResult } from "../../src/audit/verify.ts";
import { iterateAudit } from "../../src/db/audit.ts";
import { openDatabase } from "../../src/db/open.ts";
import { createStore } from "../../src/db/store.ts";

/** Appends n varied events through the store (the production path) and closes the file. */
export async function seedEvents(path: string, n: number, from = 0): Promise<void> {
  const database = openDatabase(path);
  const store = createStore(database);
  for (let i = from; i < from + n; i += 1) {
    await store.tx(async () =>
      store.audit(
        i % 3 === 0 ? null : `req_${i % 7}`,
        1_700_000_000_000 + i * 1000,
        (["created", "routed", "posted", "refused_click"] as const)[i % 4] as AuditEvent,
        i % 2 === 0 ? `slack:U0LEAD${i}` : null,
        i % 5 === 0 ? undefined : { n: i, z: "last", a: ["first", { nested: i / 3 }] },
      ),
    );
  }
  database.sqlite.close();
}

export function verifyDb(path: string, options: VerifyOptions = { start: "genesis" }): VerifyResult {
  const sqlite = new Database(path, { readonly: true });
  try {
    const verifier = new ChainVerifier(options);
    for (const row of iterateAudit(sqlite)) if (!verifier.push(row)) break;
    return verifier.finish();
  } finally {
    sqlite.close();
  }
}

/** Runs SQL against the file the way an operator with the sqlite3 shell would. */
export function tamper(path: string, sql: string): void {
  const sqlite = new Database(path);
  sqlite.exec(sql);
  sqlite.close();
}
