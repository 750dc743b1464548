import { runCli } from "./program.ts";

/** Entry of the `countersign` command: the CLI's composition root (the one place it reads process.env). */
const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
