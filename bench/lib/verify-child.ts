// `countersign audit verify` in this process, then its time and peak RSS for bench/audit.ts.
import { runCli } from "../../src/cli/program.ts";

const started = performance.now();
const code = await runCli(["audit", "verify"], {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
const commandMs = performance.now() - started;
process.stdout.write(`BENCH ${JSON.stringify({ commandMs, maxRssKb: process.resourceUsage().maxRSS })}\n`);
process.exitCode = code;
