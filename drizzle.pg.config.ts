import { defineConfig } from "drizzle-kit";

/** The PostgreSQL migrations (src/db/pg/schema.ts mirrors src/db/schema.ts). */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/pg/schema.ts",
  out: "./migrations/pg",
});
