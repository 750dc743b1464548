import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

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
    // Starts PostgreSQL only when COUNTERSIGN_TEST_DB=postgres; a no-op on SQLite runs.
    globalSetup: ["./test/support/postgres.ts"],
  },
});
