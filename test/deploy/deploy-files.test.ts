import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { validate } from "dockerfile-utils";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

/**
 * The files a deployment starts from. Docker is not available where this runs,
 * so the Dockerfile is linted (dockerfile-utils, the validator behind VS Code's
 * Docker support) and checked for what the README promises, never built.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");
  const instructions = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));

  it("has no lint problems", () => {
    expect(validate(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it("is multi-stage, runs as a non-root user, keeps /data on a volume and checks /healthz", () => {
    expect(instructions.filter((l) => l.startsWith("FROM ")).length).toBeGreaterThanOrEqual(2);
    const lastFrom = instructions.findLastIndex((l) => l.startsWith("FROM "));
    const user = instructions.slice(lastFrom).find((l) => l.startsWith("USER "));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER\s+(root|0)\b/);
    expect(instructions.some((l) => /^VOLUME\s+\["\/data"\]/.test(l))).toBe(true);
    expect(instructions.find((l) => l.startsWith("HEALTHCHECK "))).toContain("/healthz");
    expect(dockerfile).toContain("DATABASE_PATH=/data/countersign.db");
  });

  it("copies what `npm start` needs at run time (src, migrations, production node_modules)", () => {
    for (const path of ["src", "migrations"]) expect(dockerfile).toContain(`COPY ${path} ./${path}`);
    expect(dockerfile).toContain("npm ci --omit=dev");
    // tsx runs the TypeScript sources, so it must be a production dependency.
    expect(JSON.parse(read("package.json")).dependencies).toHaveProperty("tsx");
  });

  it(".dockerignore keeps secrets and local state out of the image", () => {
    const ignored = read(".dockerignore").split("\n");
    for (const entry of [".env", "countersign.yml", "node_modules", "data"]) expect(ignored).toContain(entry);
  });
});

describe("compose.yaml", () => {
  it("builds the image, mounts the config read-only and the data volume, publishes on loopback", () => {
    const compose = parse(read("compose.yaml"));
    const svc = compose.services.countersign;
    expect(svc.build).toBe(".");
    expect(svc.env_file).toBe(".env");
    expect(svc.volumes).toContain("./countersign.yml:/etc/countersign/countersign.yml:ro");
    expect(svc.volumes).toContain("countersign-data:/data");
    expect(svc.ports).toEqual(["127.0.0.1:3000:3000"]);
    expect(compose.volumes).toHaveProperty("countersign-data");
  });
});

describe("deploy/countersign.service", () => {
  const unit = read("deploy/countersign.service");

  it("runs npm start's entry point as its own user, restarts on failure but not on a bad setting (exit 2)", () => {
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/env node --import tsx src\/main\.ts$/m);
    expect(unit).toMatch(/^User=countersign$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m);
    expect(unit).toMatch(/^StateDirectory=countersign$/m);
    expect(unit).toMatch(/^Environment=DATABASE_PATH=\/var\/lib\/countersign\/countersign\.db$/m);
  });

  it.skipIf(!existsSync("/usr/bin/systemd-analyze"))("passes systemd-analyze verify", () => {
    const result = spawnSync("systemd-analyze", ["verify", join(ROOT, "deploy/countersign.service")], {
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("repository hygiene", () => {
  it("LICENSE is the license package.json names (MIT)", () => {
    expect(JSON.parse(read("package.json")).license).toBe("MIT");
    const license = read("LICENSE");
    expect(license.split("\n")[0]).toBe("MIT License");
    expect(license).toContain("Permission is hereby granted, free of charge");
  });

  it(".gitignore keeps the local configuration and .env out of git", () => {
    const ignored = read(".gitignore").split("\n");
    expect(ignored).toContain("countersign.yml");
    expect(ignored).toContain(".env");
  });

  it("package.json allowScripts covers every dependency with an install script (no npm warning)", () => {
    const lock = JSON.parse(read("package-lock.json")) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
    const allowed = JSON.parse(read("package.json")).allowScripts as Record<string, boolean>;
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of new Set(withScripts)) expect(allowed[name], name).toBe(true);
  });
});
