import { desc, eq, isNull, sql } from "drizzle-orm";
import type { SigningKeyRecord } from "../../domain/records.ts";
import type { KeyStore } from "../ports.ts";
import { signingKeys } from "./schema.ts";
import type { PgSession } from "./session.ts";

const p = sql.placeholder;

/** pg_advisory_xact_lock key held by every KeyStore transaction. */
export const KEYS_LOCK_KEY = 0x6b657973; // "keys"

/** signing_keys on PostgreSQL: every replica signs with the one active key stored here. */
export function createPgKeyStore(session: PgSession): KeyStore {
  const { db } = session;
  const s = {
    active: db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).prepare("cs_key_active"),
    byKid: db
      .select()
      .from(signingKeys)
      .where(eq(signingKeys.kid, p("kid")))
      .prepare("cs_key_by_kid"),
    all: db.select().from(signingKeys).orderBy(desc(signingKeys.createdAt)).prepare("cs_key_all"),
  };
  return {
    // Serialized across replicas: two replicas starting on an empty table would each see no
    // active key and create one; with the lock the second sees the first's key instead.
    tx: <T>(fn: () => Promise<T>): Promise<T> =>
      session.tx(async () => {
        await db.execute(sql`SELECT pg_advisory_xact_lock(${KEYS_LOCK_KEY})`);
        return fn();
      }),
    active: async (): Promise<SigningKeyRecord | undefined> => (await s.active.execute())[0],
    byKid: async (kid) => (await s.byKid.execute({ kid }))[0],
    all: () => s.all.execute(),
    insert: async (row) => void (await db.insert(signingKeys).values(row)),
    retire: async (kid, at, publishUntil) =>
      void (await db
        .update(signingKeys)
        .set({ retiredAt: at, publishUntil })
        .where(eq(signingKeys.kid, kid))),
    reactivate: async (kid) =>
      void (await db
        .update(signingKeys)
        .set({ retiredAt: null, publishUntil: null })
        .where(eq(signingKeys.kid, kid))),
  };
}
