import { desc, eq, isNull, sql } from "drizzle-orm";
import type { KeyStore } from "../ports.ts";
import type { OpenDatabase } from "./open.ts";
import { signingKeys } from "./schema.ts";

const p = sql.placeholder;

/** The statements on signing_keys. The active key is read on every approval, so it is prepared once. */
export function createKeyStore(database: OpenDatabase): KeyStore {
  const { db } = database;
  const s = {
    active: db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).prepare(),
    byKid: db
      .select()
      .from(signingKeys)
      .where(eq(signingKeys.kid, p("kid")))
      .prepare(),
    all: db.select().from(signingKeys).orderBy(desc(signingKeys.createdAt)).prepare(),
  };
  const { txs } = database;
  const read = <T>(fn: () => T): Promise<T> => Promise.resolve().then(fn);
  const keys: KeyStore = {
    tx: txs.tx,
    active: () => read(() => s.active.get()),
    byKid: (kid) => read(() => s.byKid.get({ kid })),
    all: () => read(() => s.all.all()),
    insert: (row) => txs.write(() => void db.insert(signingKeys).values(row).run()),
    retire: (kid, at, publishUntil) =>
      txs.write(
        () =>
          void db
            .update(signingKeys)
            .set({ retiredAt: at, publishUntil })
            .where(eq(signingKeys.kid, kid))
            .run(),
      ),
    reactivate: (kid) =>
      txs.write(
        () =>
          void db
            .update(signingKeys)
            .set({ retiredAt: null, publishUntil: null })
            .where(eq(signingKeys.kid, kid))
            .run(),
      ),
  };
  return keys;
}
