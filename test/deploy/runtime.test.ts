import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const pkg = JSON.parse(read("package.json")) as {
  engines: { node: string };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
};

/** The system Node of this kind of machine (20), when it is older than what countersign needs. */
const OLD_NODE = ["/usr/bin/node", "/usr/local/bin/node"].find((path) => {
  if (!existsSync(path)) return false;
  const version = spawnSync(path, ["--version"], { encoding: "utf8" }).stdout.trim();
  const [major, minor] = version.slice(1).split(".").map(Number) as [number, number];
  return major < 22 || (major === 22 && minor < 18);
});

describe("runtime: Node 22.18+ runs the TypeScript sources itself", () => {
  it("engines, and no production path loads a transpiler", () => {
    expect(pkg.engines.node).toBe(">=22.18");
    expect(pkg.dependencies).not.toHaveProperty("tsx");
    expect(pkg.scripts.start).toBe("node --import ./bin/preload.mjs src/main.ts");
    expect(pkg.scripts.demo).toBe("node --import ./bin/preload.mjs src/demo/main.ts");
    for (const file of ["Dockerfile", "deploy/countersign.service", pkg.bin.countersign!, "bin/preload.mjs"])
      expect(read(file), file).not.toMatch(/\btsx\b/);
    for (const [name, script] of Object.entries(pkg.scripts))
      expect(script, `npm run ${name}`).not.toMatch(/\btsx\b/);
    expect(JSON.parse(read("clients/typescript/package.json")).engines.node).toBe(">=22");
  });

  it("tsconfig refuses what Node cannot strip (enums, namespaces, parameter properties)", () => {
    expect(read("tsconfig.json")).toMatch(/"erasableSyntaxOnly": true/);
  });

  it("this Node runs the entry points through the preload (the bin answers --help)", () => {
    const run = spawnSync(process.execPath, [join(ROOT, "bin/countersign.mjs"), "--help"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Usage: countersign");
  });

  it("the preload loads drizzle-orm from its CommonJS build, with every name the sources import", () => {
    const probe = [
      "--import",
      "./bin/preload.mjs",
      "--input-type=module",
      "-e",
      `import { createRequire } from "node:module";
       const esm = await import("drizzle-orm/sqlite-core");
       const { sql, eq } = await import("drizzle-orm");
       const cjs = createRequire(process.cwd() + "/")("drizzle-orm/sqlite-core");
       console.log(JSON.stringify({ same: esm.sqliteTable === cjs.sqliteTable, sql: typeof sql, eq: typeof eq }));`,
    ];
    const run = spawnSync(process.execPath, probe, { cwd: ROOT, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ same: true, sql: "function", eq: "function" });
  });

  it.skipIf(OLD_NODE === undefined)(
    "an older Node → one line naming the version found and the one needed, exit 2 (npm start, the bin)",
    () => {
      const old = OLD_NODE!;
      for (const args of [
        ["--import", "./bin/preload.mjs", "src/main.ts"],
        ["bin/countersign.mjs", "--help"],
      ]) {
        const run = spawnSync(old, args, { cwd: ROOT, encoding: "utf8" });
        expect(run.status, args.join(" ")).toBe(2);
        expect(run.stdout).toBe("");
        const found = spawnSync(old, ["--version"], { encoding: "utf8" }).stdout.trim().slice(1);
        expect(run.stderr).toBe(
          `countersign: Node ${found} found; Node 22.18 or newer is needed (26 recommended; see the README)\n`,
        );
      }
    },
  );

  it("scripts/install-node.sh: an unsupported major → exit 2 naming the supported ones, nothing installed", () => {
    const run = spawnSync("sh", [join(ROOT, "scripts/install-node.sh"), "20"], { encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("supported majors are 26, 24 and 22 (22.18 or newer); got '20'");
  });

  it.skipIf(!existsSync(join(ROOT, ".node/26")))(
    "scripts/install-node.sh 26 (already installed, as .ci/run does) prints the PATH and npm_config_nodedir to eval",
    () => {
      const run = spawnSync("sh", [join(ROOT, "scripts/install-node.sh"), "26"], { encoding: "utf8" });
      expect(run.status).toBe(0);
      const lines = run.stdout.trim().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(
        /^export PATH=".*\/\.node\/26\/node_modules\/node-linux-(x64|arm64)\/bin:\$PATH"$/,
      );
      expect(lines[1]).toMatch(
        /^export npm_config_nodedir=".*\/\.node\/26\/node_modules\/node-linux-(x64|arm64)"$/,
      );
      const bin = /PATH="([^:]+):/.exec(lines[0]!)![1]!;
      expect(spawnSync(join(bin, "node"), ["--version"], { encoding: "utf8" }).stdout).toMatch(/^v26\./);
    },
  );
});
