// Fails when src/db/schema.ts and migrations/ disagree: drizzle-kit generates
// into a scratch copy of migrations/, and any new file means a missing migration.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const scratch = mkdtempSync(join(tmpdir(), "countersign-migrations-"));
try {
  cpSync("migrations", scratch, { recursive: true });
  const before = readdirSync(scratch).filter((f) => f.endsWith(".sql")).length;
  execFileSync(
    "npx",
    ["drizzle-kit", "generate", "--dialect", "sqlite", "--schema", "./src/db/schema.ts", "--out", scratch],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const after = readdirSync(scratch).filter((f) => f.endsWith(".sql")).length;
  if (after !== before) {
    console.error(
      "migrations/ is out of date with src/db/schema.ts: run `npm run db:generate` and commit the result.",
    );
    process.exit(1);
  }
  console.log(`migrations/ matches src/db/schema.ts (${before} migration${before === 1 ? "" : "s"})`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
