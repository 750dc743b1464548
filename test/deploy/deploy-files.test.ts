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
    for (const path of ["src", "bin", "migrations"]) expect(dockerfile).toContain(`COPY ${path} ./${path}`);
    expect(dockerfile).toContain("npm ci --omit=dev");
    // Node runs the TypeScript sources itself: no transpiler in production.
    expect(JSON.parse(read("package.json")).dependencies).not.toHaveProperty("tsx");
    expect(dockerfile).toContain('CMD ["node", "--import", "./bin/preload.mjs", "src/main.ts"]');
    expect(dockerfile).toMatch(/^FROM node:26-slim/m);
  });

  it("puts the operator CLI on PATH as `countersign` (the package's bin)", () => {
    const bin = JSON.parse(read("package.json")).bin.countersign as string;
    expect(dockerfile).toMatch(
      new RegExp(`ln -s /app/${bin.replace(".", "\\.")} /usr/local/bin/countersign`),
    );
    expect(existsSync(join(ROOT, bin))).toBe(true);
  });

  it("the dependency stage has every file `npm ci` reads: the lockfile's workspace and the prepare script", () => {
    const deps = instructions.slice(
      0,
      instructions.findLastIndex((l) => l.startsWith("FROM ")),
    );
    const copied = deps.filter((l) => l.startsWith("COPY ")).join("\n");
    const prepare = JSON.parse(read("package.json")).scripts.prepare as string;
    const script = /node (\S+)/.exec(prepare)?.[1];
    expect(script).toBeDefined();
    expect(copied).toContain(script);
    for (const ws of JSON.parse(read("package.json")).workspaces as string[])
      expect(copied).toContain(`${ws}/package.json`);
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

describe("deploy/compose.postgres.yaml", () => {
  const compose = parse(read("deploy/compose.postgres.yaml")) as {
    services: Record<string, Record<string, unknown> & { environment?: Record<string, string> }>;
    volumes?: Record<string, unknown>;
  };
  const replicas = Object.entries(compose.services).filter(([name]) => name.startsWith("countersign"));
  const healthTest = (svc: Record<string, unknown>) =>
    JSON.stringify((svc.healthcheck as { test?: unknown } | undefined)?.test ?? null);

  it("runs two countersign replicas of the repository's image on one PostgreSQL, with only official images", () => {
    expect(replicas.map(([name]) => name)).toEqual(["countersign-a", "countersign-b"]);
    for (const [, svc] of replicas) {
      expect(svc.build).toEqual({ context: ".." });
      expect(svc.image).toBe("countersign:local");
      expect(svc.env_file).toBe("../.env");
      expect(svc.volumes).toContain("../countersign.yml:/etc/countersign/countersign.yml:ro");
      expect(svc.depends_on).toMatchObject({ postgres: { condition: "service_healthy" } });
      // Several replicas share DATABASE_URL; DATABASE_PATH would give each its own SQLite file.
      expect(svc.environment).not.toHaveProperty("DATABASE_PATH");
    }
    for (const [name, svc] of Object.entries(compose.services)) {
      if (name.startsWith("countersign")) continue;
      // Official images only (Docker Hub library images have no namespace).
      expect(String(svc.image), name).toMatch(/^(postgres|caddy|nginx|haproxy):[\w.-]+$/);
    }
    expect(compose.volumes).toHaveProperty("countersign-pg");
  });

  it("gives both replicas the same postgres:// DATABASE_URL, pointing at the postgres service", () => {
    const urls = replicas.map(([, svc]) => svc.environment?.DATABASE_URL);
    expect(urls[0]).toMatch(/^postgres:\/\/countersign:\$\{POSTGRES_PASSWORD\}@postgres:5432\/countersign$/);
    expect(urls[1]).toBe(urls[0]);
    const pg = compose.services.postgres as { environment: Record<string, string> };
    expect(pg.environment.POSTGRES_DB).toBe("countersign");
    expect(pg.environment.POSTGRES_USER).toBe("countersign");
    expect(pg.environment.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
  });

  it("health-checks every replica on /healthz and PostgreSQL with pg_isready; the balancer waits for both", () => {
    for (const [, svc] of replicas) {
      expect(healthTest(svc)).toContain("/healthz");
      expect(healthTest(svc)).toContain(`:${svc.environment?.PORT ?? 3000}/healthz`);
    }
    expect(healthTest(compose.services.postgres as Record<string, unknown>)).toContain("pg_isready");
    const lb = compose.services.caddy as { depends_on: unknown; ports: string[]; volumes: string[] };
    expect(lb.depends_on).toEqual({
      "countersign-a": { condition: "service_healthy" },
      "countersign-b": { condition: "service_healthy" },
    });
    expect(lb.ports).toEqual(["127.0.0.1:3000:8080"]);
    expect(lb.volumes).toContain("./Caddyfile:/etc/caddy/Caddyfile:ro");
  });

  it("the Caddyfile balances over both replicas and health-checks them on /healthz", () => {
    const caddyfile = read("deploy/Caddyfile");
    expect(caddyfile).toMatch(/^\s*reverse_proxy countersign-a:3000 countersign-b:3000 \{$/m);
    expect(caddyfile).toMatch(/^\s*health_uri \/healthz$/m);
    expect(caddyfile).toMatch(/^:8080 \{$/m);
  });
});

describe("deploy/countersign.service", () => {
  const unit = read("deploy/countersign.service");

  it("runs npm start's entry point as its own user, restarts on failure but not on a bad setting (exit 2)", () => {
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/env node --import \.\/bin\/preload\.mjs src\/main\.ts$/m);
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

  it("package.json allowScripts decides every dependency with an install script (no npm warning)", () => {
    const lock = JSON.parse(read("package-lock.json")) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
    const allowed = JSON.parse(read("package.json")).allowScripts as Record<string, boolean>;
    expect(withScripts.length).toBeGreaterThan(0);
    // true runs it; false (@scarf/scarf: a download-analytics ping) is a decision not to.
    for (const name of new Set(withScripts)) expect(typeof allowed[name], name).toBe("boolean");
  });
});
