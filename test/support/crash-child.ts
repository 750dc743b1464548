import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("../slack-flow/crash-child.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type CrashChild = ChildProcessByStdio<null, Readable, Readable>;

/** countersign in a child process (test/slack-flow/crash-child.ts), to be killed with SIGKILL. */
export function spawnCrashChild(
  dbPath: string,
  apiUrl: string,
  clockMs: number,
  leaseMs?: number,
): CrashChild {
  const lease = leaseMs === undefined ? [] : [String(leaseMs)];
  return spawn(process.execPath, [CHILD, dbPath, apiUrl, String(clockMs), ...lease], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The child's base URL from its first stdout line; its stderr in the error when it dies first. */
export function crashChildUrl(child: CrashChild, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(
      () => reject(new Error(`child did not start in time; stderr: ${err}`)),
      timeoutMs,
    );
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString("utf8");
    });
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      const line = out.split("\n")[0];
      if (out.includes("\n") && line !== undefined) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? signal}) before listening; stderr: ${err}`));
    });
  });
}
