import { withEnvFile } from "../config/env-file.ts";
import { runCli } from "./program.ts";

// `countersign audit export | head`: the reader went away; stop quietly, as Unix tools do.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

/**
 * Entry of the `countersign` command: the CLI's composition root (the one place
 * it reads process.env). It reads `.env` exactly as `npm start` does.
 */
const source = withEnvFile(process.env);
if (!source.ok) {
  process.stderr.write(
    `countersign: invalid environment:\n${source.problems.map((p) => `  - ${p}`).join("\n")}\n`,
  );
  process.exit(2);
}
const code = await runCli(process.argv.slice(2), {
  env: source.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
