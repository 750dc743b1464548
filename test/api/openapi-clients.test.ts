import { execFile } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { type Harness, startHarness } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";

/**
 * /openapi.json as integrators use it: two linters (Redocly's recommended
 * rules, Spectral's spectral:oas) and three client generators
 * (openapi-typescript + openapi-fetch, @hey-api/openapi-ts, orval) whose output
 * must compile (tsc, strict) and run create → get → events → cancel against
 * the real service. The tools live in the test/openapi-clients workspace
 * (devDependencies); everything generated goes to its gitignored .generated/.
 * Not storage-specific, so it runs in the SQLite project only.
 */

const run = promisify(execFile);
const TOOLS = join(process.cwd(), "test/openapi-clients");
const OUT = join(TOOLS, ".generated");
/** A tool of the workspace wherever npm placed it: its own node_modules, or hoisted to the root's. */
const installed = (relative: string) => {
  const found = [join(TOOLS, "node_modules", relative), join(process.cwd(), "node_modules", relative)].find(
    (p) => existsSync(p),
  );
  if (found === undefined) throw new Error(`${relative} is not installed: run npm ci`);
  return found;
};
const BIN = (name: string) => installed(`.bin/${name}`);

const TIMEOUT = 180_000;

describe.skipIf(onPostgres)("third-party OpenAPI tools against /openapi.json", () => {
  let h: Harness;
  let spec: string;
  beforeAll(async () => {
    h = await startHarness();
    const res = await h.api("GET", "/openapi.json", undefined, { token: null });
    expect(res.status).toBe(200);
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    spec = join(OUT, "openapi.json");
    writeFileSync(spec, JSON.stringify(res.json, null, 2));
  }, TIMEOUT);
  afterAll(async () => {
    await h?.stop();
  });

  const tool = async (file: string, args: string[], env: Record<string, string> = {}) => {
    try {
      return await run(file, args, {
        cwd: TOOLS,
        env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env },
        timeout: TIMEOUT,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `${file} ${args.join(" ")} failed:\n${e.stdout ?? ""}\n${e.stderr ?? ""}\n${e.message}`,
      );
    }
  };
  const node = (args: string[], env: Record<string, string> = {}) => tool(process.execPath, args, env);

  it(
    "Redocly (recommended rules) finds no error and no warning",
    async () => {
      const { stdout, stderr } = await tool(BIN("redocly"), [
        "lint",
        spec,
        "--config",
        join(TOOLS, "redocly.yaml"),
        "--format",
        "stylish",
      ]);
      expect(`${stdout}${stderr}`).toMatch(/valid/i);
      expect(`${stdout}${stderr}`).not.toMatch(/warning|error/i);
    },
    TIMEOUT,
  );

  it(
    "Spectral (spectral:oas, .spectral.yaml) finds no problem",
    async () => {
      const { stdout } = await tool(BIN("spectral"), [
        "lint",
        spec,
        "--ruleset",
        join(TOOLS, ".spectral.yaml"),
        "--fail-severity",
        "hint",
      ]);
      expect(stdout).toMatch(/No results with a severity of 'hint' or higher found/);
    },
    TIMEOUT,
  );

  it(
    "openapi-typescript, @hey-api/openapi-ts and orval generate clients that compile and do create → get → events → cancel",
    async () => {
      await tool(BIN("openapi-typescript"), [spec, "-o", join(OUT, "openapi-typescript/schema.ts")]);
      // @hey-api/openapi-ts needs TypeScript 5's compiler API (see typescript-5.mjs).
      await node([
        "--import",
        "./typescript-5.mjs",
        installed("@hey-api/openapi-ts/dist/run.mjs"),
        "-i",
        spec,
        "-o",
        join(OUT, "hey-api"),
        "-c",
        "@hey-api/client-fetch",
      ]);
      await tool(BIN("orval"), ["--config", "orval.config.mjs", "--fail-on-warnings"], {
        OPENAPI_FILE: spec,
        ORVAL_OUTPUT: join(OUT, "orval/client.ts"),
        COUNTERSIGN_URL: h.url,
      });
      // Strict compile of the generated code and the three round trips that use it.
      await tool(BIN("tsc"), ["-p", "tsconfig.json"]);
      writeFileSync(join(OUT, "js/package.json"), '{ "type": "module" }\n');

      const env = { COUNTERSIGN_URL: h.url, COUNTERSIGN_TOKEN: TOKENS.support };
      const ids = new Set<string>();
      for (const client of ["openapi-fetch", "hey-api", "orval"]) {
        const { stdout } = await node([join(OUT, `js/round-trip/${client}.js`)], env);
        const result = JSON.parse(stdout.trim());
        expect(result, client).toMatchObject({
          created: "pending",
          got: "pending",
          cancelled: "cancelled",
          resolution: "cancelled_by_agent",
          missing: "not_found",
        });
        expect(result.events, client).toEqual(expect.arrayContaining(["created", "routed"]));
        ids.add(result.id);
        // The service saw it the same way.
        const stored = await h.api("GET", `/v1/requests/${result.id}`);
        expect(stored.json.status).toBe("cancelled");
      }
      expect(ids.size).toBe(3);
    },
    TIMEOUT,
  );
});
