/**
 * PostgreSQL for tests. Only when COUNTERSIGN_TEST_DB=postgres: vitest's
 * globalSetup (this file's default export) starts a throwaway cluster with
 * scripts/pg-cluster.mjs (or uses COUNTERSIGN_TEST_DATABASE_URL's server),
 * migrates a TEMPLATE database once, and tears it all down after the run.
 * freshPostgresUrl() gives each caller its own database, copied from the
 * template in milliseconds.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { migratePostgres } from "../../src/storage/pg/open.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A superuser URL on the test server, its template database, and this run's prefix (empty when not on PostgreSQL). */
    countersignPostgres: { adminUrl: string; template: string; prefix: string } | null;
  }
}

/** Whether this run tests PostgreSQL (COUNTERSIGN_TEST_DB=postgres). */
export const onPostgres = process.env.COUNTERSIGN_TEST_DB === "postgres";

const script = fileURLToPath(new URL("../../scripts/pg-cluster.mjs", import.meta.url));

/** Starts a throwaway cluster in a new temp dir: { url, dir } (stop with stopCluster). */
export function startCluster(): { url: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "countersign-pg-"));
  const url = execFileSync(process.execPath, [script, "start", "--dir", dir], { encoding: "utf8" }).trim();
  return { url, dir };
}

export function stopCluster(dir: string): void {
  execFileSync(process.execPath, [script, "stop", "--dir", dir], { stdio: "ignore" });
}

/** `url` with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** globalSetup of the "postgres" project (vitest.config.ts). */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.COUNTERSIGN_TEST_DATABASE_URL;
  const cluster = external === undefined || external === "" ? startCluster() : null;
  const adminUrl = cluster?.url ?? (external as string);
  const prefix = `cstest_${process.pid}_${Date.now().toString(36)}`;
  const template = `${prefix}_template`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE "${template}"`));
  const pool = new pg.Pool({ connectionString: withDatabase(adminUrl, template), max: 1 });
  try {
    await migratePostgres(pool);
  } finally {
    await pool.end();
  }
  project.provide("countersignPostgres", { adminUrl, template, prefix });
  return async () => {
    if (cluster !== null) {
      stopCluster(cluster.dir);
      return;
    }
    await admin(adminUrl, async (c) => {
      const { rows } = await c.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
        [prefix],
      );
      for (const { datname } of rows) await c.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
    });
  };
}

let counter = 0;

/** A new, migrated, empty database for the caller (from the template). */
export async function freshPostgresUrl(): Promise<string> {
  const { inject } = await import("vitest");
  const config = inject("countersignPostgres");
  if (config === null) throw new Error("freshPostgresUrl needs COUNTERSIGN_TEST_DB=postgres");
  counter += 1;
  const name = `${config.prefix}_${process.pid}_${counter}`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await admin(config.adminUrl, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${config.template}"`));
      return withDatabase(config.adminUrl, name);
    } catch (error) {
      // Another worker is copying the template this instant (55006): try again shortly.
      if ((error as { code?: string }).code !== "55006" || attempt >= 50) throw error;
      await sleep(20 + Math.random() * 30);
    }
  }
}
