import type { Readable, Writable } from "node:stream";

/** What a CLI command may touch: the environment it was given and three streams. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** Exit codes (CONTRACT §8). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Bad usage or settings: exit 2 with every problem listed. */
export class UsageError extends Error {
  readonly problems: string[];
  constructor(message: string, problems: string[] = []) {
    super(message);
    this.problems = problems;
  }
}

export const line = (out: Writable, text = "") => void out.write(`${text}\n`);
