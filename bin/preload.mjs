// Loaded before countersign's entry points (`node --import ./bin/preload.mjs
// src/main.ts`: npm start, the Docker image, the systemd unit; first thing in
// the `countersign` bin). Three things, none of which changes what runs:
//
// 1. An older Node is refused in one line, exit 2. The sources are TypeScript
//    that Node runs itself (type stripping, Node 22.18 or newer); without this
//    an old Node fails confusingly on the first .ts file.
// 2. V8's compile cache (module.enableCompileCache): later starts skip
//    parsing and compiling the dependencies again.
// 3. drizzle-orm is loaded from its CommonJS build. Its ESM build is ~450
//    files under one 175 KB package.json, and Node 22–26 re-reads that
//    package.json's `exports` for every file it loads as ESM: measured here
//    on Node 26.12, importing drizzle-orm/node-postgres as ESM takes ~0.8 s
//    and ~230 MB RSS, as CommonJS ~0.1 s and ~30 MB. Same code, same API.
import * as nodeModule from "node:module";

const NEEDED = [22, 18];
const found = process.versions.node;
const [major, minor] = found.split(".").map(Number);
const tooOld = major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1]);
if (tooOld || process.features?.typescript === false) {
  process.stderr.write(
    `countersign: Node ${found} found; Node ${NEEDED.join(".")} or newer is needed (26 recommended; see the README)\n`,
  );
  process.exit(2);
}

// The cache lives in the OS temp dir by default; a read-only one only costs the speed-up.
nodeModule.enableCompileCache?.();

const COMMONJS = ["node", "require", "default"];
nodeModule.registerHooks?.({
  resolve(specifier, context, next) {
    if (specifier === "drizzle-orm" || specifier.startsWith("drizzle-orm/"))
      return next(specifier, { ...context, conditions: COMMONJS });
    return next(specifier, context);
  },
});
