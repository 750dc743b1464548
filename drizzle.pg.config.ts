import { defineConfig } from "drizzle-kit";

/** The PostgreSQL migrations (src/storage/pg/schema.ts mirrors src/storage/sqlite/schema.ts). */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/storage/pg/schema.ts",
  out: "./migrations/pg",
});
