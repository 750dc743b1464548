// Fails when a schema and its migrations disagree, for both dialects: drizzle-kit
// generates into a scratch copy of the migrations folder, and any new file
// means a missing migration.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dialects = [
  {
    dialect: "sqlite",
    schema: "./src/storage/sqlite/schema.ts",
    out: "migrations",
    generate: "npm run db:generate",
  },
  {
    dialect: "postgresql",
    schema: "./src/storage/pg/schema.ts",
    out: "migrations/pg",
    generate: "npm run db:generate:pg",
  },
];

let failed = false;
for (const { dialect, schema, out, generate } of dialects) {
  const scratch = mkdtempSync(join(tmpdir(), "countersign-migrations-"));
  try {
    cpSync(out, scratch, { recursive: true });
    const count = () => readdirSync(scratch).filter((f) => f.endsWith(".sql")).length;
    const before = count();
    execFileSync(
      "npx",
      ["drizzle-kit", "generate", "--dialect", dialect, "--schema", schema, "--out", scratch],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    if (count() !== before) {
      console.error(`${out}/ is out of date with ${schema}: run \`${generate}\` and commit the result.`);
      failed = true;
    } else {
      console.log(`${out}/ matches ${schema} (${before} migration${before === 1 ? "" : "s"})`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
if (failed) process.exit(1);
