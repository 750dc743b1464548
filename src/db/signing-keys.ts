import { desc, eq, isNull, sql } from "drizzle-orm";
import type { OpenDatabase } from "./open.ts";
import { type SigningKeyRow, signingKeys } from "./schema.ts";

const p = sql.placeholder;

/** The statements on signing_keys. The active key is read on every approval, so it is prepared once. */
export function createKeyStore({ db, sqlite }: OpenDatabase) {
  const s = {
    active: db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).prepare(),
    byKid: db
      .select()
      .from(signingKeys)
      .where(eq(signingKeys.kid, p("kid")))
      .prepare(),
    all: db.select().from(signingKeys).orderBy(desc(signingKeys.createdAt)).prepare(),
  };
  return {
    /** Runs fn in one IMMEDIATE transaction (nested calls join the outer one). */
    tx<T>(fn: () => T): T {
      return sqlite.inTransaction ? fn() : sqlite.transaction(fn).immediate();
    },
    active: (): SigningKeyRow | undefined => s.active.get(),
    byKid: (kid: string): SigningKeyRow | undefined => s.byKid.get({ kid }),
    all: (): SigningKeyRow[] => s.all.all(),
    insert: (row: SigningKeyRow) => void db.insert(signingKeys).values(row).run(),
    retire: (kid: string, at: number, publishUntil: number) =>
      void db.update(signingKeys).set({ retiredAt: at, publishUntil }).where(eq(signingKeys.kid, kid)).run(),
    reactivate: (kid: string) =>
      void db
        .update(signingKeys)
        .set({ retiredAt: null, publishUntil: null })
        .where(eq(signingKeys.kid, kid))
        .run(),
  };
}

export type KeyStore = ReturnType<typeof createKeyStore>;
