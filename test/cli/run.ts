import { spawn } from "node:child_process";
import { PassThrough } from "node:stream";
import { runCli as runProgram } from "../../src/cli/program.ts";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `countersign …` in this process: the CLI's own entry (runCli in
 * src/cli/program.ts, which src/cli/main.ts hands process.argv, process.env
 * and the three streams) with the given env and stdin, its output captured.
 * No node start-up per command: most CLI cases run this way.
 */
export async function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliRun> {
  const input = new PassThrough();
  input.end(stdin ?? "");
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (c: Buffer) => out.push(String(c)));
  stderr.on("data", (c: Buffer) => err.push(String(c)));
  const code = await runProgram(args, {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", ...env },
    stdin: input,
    stdout,
    stderr,
  });
  // Let the last writes drain into the collectors.
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/**
 * `countersign …` as an operator runs it: node on bin/countersign.mjs (the
 * installed `countersign` bin), configured only by env. For the cases that are
 * about the process itself: its exit status, its streams, signals.
 */
export function runCliProcess(args: string[], env: Record<string, string>, stdin?: string): Promise<CliRun> {
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
