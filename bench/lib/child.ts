import { type ChildProcess, fork } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ChildOptions {
  /** Label for the log file and the CPU profile. */
  name: string;
  /** Directory for the child's stdout/stderr log. */
  logDir: string;
  /** When set, the child runs with --cpu-prof and writes its profiles under <profileDir>/<name>/ on exit. */
  profileDir?: string | null;
}

export interface Child<Ready> {
  pid: number;
  ready: Ready;
  logPath: string;
  /** Calls a handler the child registered with `serveRpc`. */
  call<T = unknown>(cmd: string, args?: unknown): Promise<T>;
  /** Asks the child to stop cleanly (profiles are written on a clean exit), then kills it if it hangs. */
  stop(): Promise<void>;
}

type Reply = { id: number; ok: boolean; result?: unknown; error?: string };

/**
 * Forks a TypeScript entry under bench/servers (Node strips the types), hands it its options
 * through the environment, and waits for its `ready` message. Servers under
 * test run in their own process so the load generator (here) does not share
 * their event loop.
 */
export async function startChild<Ready>(
  script: string,
  options: unknown,
  child: ChildOptions,
): Promise<Child<Ready>> {
  const logPath = join(child.logDir, `${child.name}.log`);
  const fd = openSync(logPath, "a");
  const profile =
    child.profileDir == null
      ? []
      : // One directory per child: each child writes its profile there.
        ["--cpu-prof", `--cpu-prof-dir=${join(child.profileDir, child.name)}`];
  let proc: ChildProcess;
  try {
    proc = fork(resolve(ROOT, "bench/servers", script), [], {
      cwd: ROOT,
      execArgv: [...profile],
      env: { ...process.env, BENCH_CHILD_OPTIONS: JSON.stringify(options) },
      stdio: ["ignore", fd, fd, "ipc"],
    });
  } finally {
    closeSync(fd);
  }
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    proc.once("exit", (code) => {
      exitCode = code;
      for (const p of pending.values()) p.reject(new Error(`${child.name} exited (${code}); see ${logPath}`));
      pending.clear();
      resolve();
    });
  });
  proc.on("message", (message: unknown) => {
    const reply = message as Reply;
    if (typeof reply.id !== "number") return;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new Error(`${child.name}: ${reply.error}`));
  });

  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${child.name} did not start in 60 s; see ${logPath}`)),
      60_000,
    );
    proc.on("message", function onReady(message: unknown) {
      const m = message as { type?: string; info?: Ready };
      if (m.type !== "ready") return;
      clearTimeout(timer);
      proc.off("message", onReady);
      resolve(m.info as Ready);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${child.name} exited (${exitCode}) before it was ready:\n${tail(logPath)}`));
    });
  });

  return {
    pid: proc.pid ?? -1,
    ready,
    logPath,
    call<T>(cmd: string, args?: unknown): Promise<T> {
      if (exitCode !== undefined) return Promise.reject(new Error(`${child.name} is not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        proc.send({ id, cmd, args });
      });
    },
    async stop(): Promise<void> {
      if (exitCode !== undefined) return;
      proc.send({ id: 0, cmd: "stop" });
      const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The last lines of a child's log, for error messages. */
export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Resident set size of a process in MB, from /proc (Linux). */
export function rssOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}
