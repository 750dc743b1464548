import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The suite runs twice: on SQLite (the embedded default) and on PostgreSQL.
 * The PostgreSQL project starts a throwaway cluster itself (test/support/postgres.ts)
 * from Debian's `postgresql` binaries, or uses COUNTERSIGN_TEST_DATABASE_URL's server.
 * Without either it is left out with a notice, unless COUNTERSIGN_TEST_DB=postgres
 * (CI) requires it. COUNTERSIGN_TEST_DB=sqlite runs SQLite only.
 */
const only = process.env.COUNTERSIGN_TEST_DB;
const postgresBinaries = (() => {
  const root = "/usr/lib/postgresql";
  return existsSync(root) && readdirSync(root).some((v) => existsSync(`${root}/${v}/bin/initdb`));
})();
const withPostgres =
  only === "postgres" ||
  (only !== "sqlite" && (postgresBinaries || Boolean(process.env.COUNTERSIGN_TEST_DATABASE_URL)));
if (!withPostgres && only !== "sqlite") {
  process.stderr.write(
    "note: PostgreSQL is not installed (apt-get install postgresql): running the suite on SQLite only\n",
  );
}

/** Tests that never touch a database (or only the demo's embedded SQLite) run once. */
const DATABASE_FREE = [
  "test/architecture/**",
  "test/config/**",
  "test/docs/**",
  "test/deploy/**",
  "test/fake-slack/**",
  "test/slack/**",
  "test/bench/**",
  "test/demo/**",
  "test/client/canonical.test.ts",
  "test/client/canonical-vectors.test.ts",
  "test/client/types.test.ts",
  "test/client/schema-drift.test.ts",
  "test/client/verify-token.test.ts",
  "test/client/demo-e2e.test.ts",
  // The OpenAPI tools' workspace (its node_modules must never be collected as tests).
  "test/openapi-clients/**",
];

export default defineConfig({
  resolve: {
    // Tests and the client's examples run the package from source (no build needed).
    alias: {
      "@countersign/client": fileURLToPath(new URL("./clients/typescript/src/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "sqlite", env: { COUNTERSIGN_TEST_DB: "sqlite" } } },
      ...(withPostgres
        ? [
            {
              extends: true as const,
              test: {
                name: "postgres",
                exclude: DATABASE_FREE,
                env: { COUNTERSIGN_TEST_DB: "postgres" },
                globalSetup: ["./test/support/postgres.ts"],
              },
            },
          ]
        : []),
    ],
  },
});
