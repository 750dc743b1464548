import Database from "better-sqlite3";
import pg from "pg";
import { postgresUrlFor } from "./harness.ts";
import { onPostgres } from "./postgres.ts";

/**
 * A second connection to the database a harness runs on (for row counts and
 * raw rows a test wants to see, or a row it breaks on purpose, without going
 * through the service): SQLite — a better-sqlite3 connection on the file
 * (read-only unless `writable`); PostgreSQL — a pg client on the database the
 * harness uses for that `dbPath`. SQL is written with `?` placeholders and the
 * same table/column names on both.
 */
export interface DbReader {
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A write statement (only with `writable`); the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  /** `SELECT count(*)` of a table, as a number on both databases. */
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

export async function openReader(dbPath: string, options: { writable?: boolean } = {}): Promise<DbReader> {
  const writable = options.writable === true;
  if (!onPostgres) {
    const db = new Database(dbPath, { readonly: !writable, fileMustExist: true });
    return {
      all: async <T>(sql: string, params: unknown[] = []) => db.prepare(sql).all(...params) as T[],
      run: async (sql, params = []) => db.prepare(sql).run(...params).changes,
      count: async (table) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
      close: async () => {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: await postgresUrlFor(dbPath) });
  await client.connect();
  const query = (sql: string, params: unknown[]) => {
    let n = 0;
    return client.query(
      sql.replace(/\?/g, () => `$${++n}`),
      params,
    );
  };
  const all = async <T>(sql: string, params: unknown[] = []): Promise<T[]> =>
    (await query(sql, params)).rows as T[];
  return {
    all,
    run: async (sql, params = []) => {
      if (!writable) throw new Error("openReader: pass { writable: true } to write");
      return (await query(sql, params)).rowCount ?? 0;
    },
    count: async (table) => Number((await all<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]?.n),
    close: () => client.end(),
  };
}
