// docs/screenshots/ are taken from the simulator by `npm run screenshots`.
// docs/screenshots/STAMP.json records what they show: a hash of every file that
// shapes the pictures (the Block Kit rendering, the Home tab, the simulator's
// page, styles, samples and demo config) and the hash of each image. The docs
// test (test/docs/screenshots.test.ts) fails when the layout changed since the
// images were taken, or an image changed without the stamp.
//   node scripts/screenshots-stamp.mjs write   (run by `npm run screenshots`)
//   node scripts/screenshots-stamp.mjs check   (exit 1 naming what is stale)
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const SCREENSHOTS_DIR = join(ROOT, "docs/screenshots");
export const STAMP_PATH = join(SCREENSHOTS_DIR, "STAMP.json");

/** What the screenshots show is made of these (folders are read whole). */
export const LAYOUT_SOURCES = [
  "src/slack/render",
  "src/slack/home.ts",
  "src/slack/mrkdwn.ts",
  "src/demo/page",
  "src/demo/public",
  "src/demo/samples.ts",
  "src/demo/directory.ts",
  "src/demo/demo-config.yml",
];

const sha256 = (data) => createHash("sha256").update(data).digest("hex");

function files(path) {
  const full = join(ROOT, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { recursive: true })
    .map((f) => join(path, String(f)))
    .filter((f) => statSync(join(ROOT, f)).isFile());
}

/** One hash over the layout sources' contents (whitespace ignored), in path order. */
export function layoutHash() {
  const all = LAYOUT_SOURCES.flatMap(files).sort();
  const h = createHash("sha256");
  // Whitespace is left out, so reformatting (biome) does not count as a new layout.
  for (const f of all) h.update(`${f}\0${readFileSync(join(ROOT, f), "utf8").replace(/\s+/g, "")}\0`);
  return h.digest("hex");
}

export function imageHashes() {
  return Object.fromEntries(
    readdirSync(SCREENSHOTS_DIR)
      .filter((f) => f.endsWith(".png"))
      .sort()
      .map((f) => [f, sha256(readFileSync(join(SCREENSHOTS_DIR, f)))]),
  );
}

/** Problems with the screenshots as they stand, empty when they show the current layout. */
export function staleness() {
  if (!existsSync(STAMP_PATH)) return [`${relative(ROOT, STAMP_PATH)} is missing`];
  const stamp = JSON.parse(readFileSync(STAMP_PATH, "utf8"));
  const problems = [];
  if (stamp.layout !== layoutHash()) {
    problems.push(
      `the message layout changed since the screenshots were taken (${LAYOUT_SOURCES.join(", ")})`,
    );
  }
  const now = imageHashes();
  for (const [name, hash] of Object.entries(now)) {
    if (stamp.images?.[name] !== hash) problems.push(`docs/screenshots/${name} changed without the stamp`);
  }
  for (const name of Object.keys(stamp.images ?? {})) {
    if (!(name in now)) problems.push(`docs/screenshots/${name} is stamped but missing`);
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2];
  if (mode === "write") {
    writeFileSync(
      STAMP_PATH,
      `${JSON.stringify({ layout: layoutHash(), images: imageHashes() }, null, 2)}\n`,
    );
    console.log(`screenshots stamped: ${relative(ROOT, STAMP_PATH)}`);
  } else if (mode === "check") {
    const problems = staleness();
    for (const p of problems) console.error(`screenshots: ${p}`);
    if (problems.length > 0)
      console.error("run `npm run screenshots` (needs /usr/bin/chromium) and commit docs/screenshots/");
    process.exit(problems.length > 0 ? 1 : 0);
  } else {
    console.error("usage: node scripts/screenshots-stamp.mjs write|check");
    process.exit(2);
  }
}
