// A throwaway PostgreSQL cluster for tests and local runs (no Docker):
//   node scripts/pg-cluster.mjs start [--dir D] [--port P]   prints postgres://… on stdout
//   node scripts/pg-cluster.mjs stop --dir D                 stops it and deletes D
//   node scripts/pg-cluster.mjs pause|resume --dir D        stops it like a crash, keeping its data / starts it again
// Uses Debian's binaries (/usr/lib/postgresql/<version>/bin, the newest) or
// whatever initdb/pg_ctl are on PATH. fsync is off: for tests only. PostgreSQL
// refuses to run as root, so as root the cluster runs as the `postgres` user.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function binDir() {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? null : join(root, versions[0], "bin");
}

function tool(name) {
  const dir = binDir();
  return dir === null ? name : join(dir, name);
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** Runs a PostgreSQL binary, as the postgres user when we are root. */
function run(name, args) {
  const [cmd, argv] = isRoot
    ? ["runuser", ["-u", "postgres", "--", tool(name), ...args]]
    : [tool(name), args];
  return execFileSync(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function owner(uidName) {
  const line = execFileSync("id", ["-u", uidName], { encoding: "utf8" }).trim();
  const gid = execFileSync("id", ["-g", uidName], { encoding: "utf8" }).trim();
  return { uid: Number(line), gid: Number(gid) };
}

export async function start({ dir, port } = {}) {
  const root = dir ?? mkdtempSync(join(tmpdir(), "countersign-pg-"));
  mkdirSync(root, { recursive: true });
  if (isRoot) {
    const { uid, gid } = owner("postgres");
    chownSync(root, uid, gid);
  }
  const data = join(root, "data");
  const listenPort = port ?? (await freePort());
  run("initdb", [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
    "--no-instructions",
  ]);
  writeFileSync(
    join(root, "test.conf"),
    [
      `port = ${listenPort}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${root}'`,
      "fsync = off",
      "synchronous_commit = off",
      "full_page_writes = off",
      "max_connections = 200",
      "shared_buffers = 64MB",
      "",
    ].join("\n"),
  );
  if (isRoot) {
    const { uid, gid } = owner("postgres");
    chownSync(join(root, "test.conf"), uid, gid);
  }
  writeFileSync(join(data, "postgresql.auto.conf"), `include '${join(root, "test.conf")}'\n`, { flag: "a" });
  run("pg_ctl", ["-D", data, "-l", join(root, "server.log"), "-w", "-t", "60", "start"]);
  return { dir: root, port: listenPort, url: `postgres://postgres@127.0.0.1:${listenPort}/postgres` };
}

export function stop({ dir }) {
  const data = join(dir, "data");
  if (existsSync(join(data, "postmaster.pid"))) run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
  rmSync(dir, { recursive: true, force: true });
}

/** Stops the server at once (like a crash) but keeps its data: `resume` starts it again. */
export function pause({ dir }) {
  run("pg_ctl", ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]);
}

export function resume({ dir }) {
  run("pg_ctl", ["-D", join(dir, "data"), "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
}

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const command = process.argv[2];
  const dir = arg("dir");
  if (command === "start") {
    const port = arg("port");
    const cluster = await start({ dir, port: port === undefined ? undefined : Number(port) });
    console.error(
      `PostgreSQL running in ${cluster.dir} (stop: node scripts/pg-cluster.mjs stop --dir ${cluster.dir})`,
    );
    console.log(cluster.url);
  } else if (command === "stop" && dir !== undefined) {
    stop({ dir });
  } else if (command === "pause" && dir !== undefined) {
    pause({ dir });
  } else if (command === "resume" && dir !== undefined) {
    resume({ dir });
  } else {
    console.error(
      "usage: node scripts/pg-cluster.mjs start [--dir D] [--port P] | stop|pause|resume --dir D",
    );
    process.exit(2);
  }
}
