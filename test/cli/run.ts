import { spawn } from "node:child_process";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `countersign …` as an operator runs it: node on bin/countersign.mjs (the installed `countersign` bin), configured only by env. */
export function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliRun> {
  const child = spawn(process.execPath, ["bin/countersign.mjs", ...args], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(String(c)));
  child.stderr.on("data", (c: Buffer) => err.push(String(c)));
  child.stdin.end(stdin ?? "");
  return new Promise((resolve) =>
    child.once("close", (code) => resolve({ code, stdout: out.join(""), stderr: err.join("") })),
  );
}
