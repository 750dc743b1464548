/**
 * A throwaway PostgreSQL cluster for the `--db=postgres` benchmarks
 * (scripts/pg-cluster.mjs: Debian's binaries, fsync off), with one fresh
 * database per measured configuration so table sizes do not carry over.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { migratePostgres } from "../../src/storage/pg/index.ts";
import { ROOT } from "./child.ts";

const script = join(ROOT, "scripts/pg-cluster.mjs");

/** Whether PostgreSQL's server binaries are installed where scripts/pg-cluster.mjs looks first. */
export function hasPostgres(): boolean {
  const root = "/usr/lib/postgresql";
  return existsSync(root) && readdirSync(root).some((v) => existsSync(join(root, v, "bin", "initdb")));
}

export interface Cluster {
  url: string;
  /** Creates database `name` (optionally migrated) and returns its URL. */
  database(name: string, options?: { migrate?: boolean }): Promise<string>;
  /** Runs one statement on a database by URL. */
  query<T extends pg.QueryResultRow>(url: string, text: string, values?: unknown[]): Promise<T[]>;
  stop(): void;
}

export function startCluster(): Cluster {
  const dir = mkdtempSync(join(tmpdir(), "countersign-bench-pgc-"));
  const url = execFileSync(process.execPath, [script, "start", "--dir", dir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
  const withDb = (name: string) => {
    const u = new URL(url);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const query = async <T extends pg.QueryResultRow>(
    target: string,
    text: string,
    values: unknown[] = [],
  ): Promise<T[]> => {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    url,
    async database(name, options = {}) {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      await query(url, `CREATE DATABASE ${name}`);
      const target = withDb(name);
      if (options.migrate) {
        const pool = new pg.Pool({ connectionString: target, max: 1 });
        try {
          await migratePostgres(pool);
        } finally {
          await pool.end();
        }
      }
      return target;
    },
    query,
    stop() {
      if (process.env.BENCH_KEEP) {
        process.stderr.write(`  … kept the PostgreSQL cluster in ${dir} (${url})\n`);
        return;
      }
      execFileSync(process.execPath, [script, "stop", "--dir", dir], { stdio: "ignore" });
    },
  };
}
