import { Command, CommanderError, Option } from "commander";
import { type CliIo, EXIT, type ExitCode, line, UsageError } from "./io.ts";

const ENV_HELP = `
Reads the same environment as \`npm start\` (DATABASE_PATH or DATABASE_URL, COUNTERSIGN_CONFIG, …).
Exit status: 0 success, 1 a failed check, 2 bad usage or settings.`;

/**
 * Runs `countersign <command>` with commander and answers the exit code. Each
 * command's module is imported when it runs, so `audit verify` does not load
 * drizzle, zod schemas or the token code it never uses.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = new Command("countersign")
    .description("Operator commands for countersign, the Slack approval gate for AI agents")
    .addHelpText("after", ENV_HELP)
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .allowExcessArguments(false);
  const run = (fn: () => ExitCode | Promise<ExitCode>) => async () => {
    code = await fn();
  };

  program
    .command("migrate")
    .description(
      "apply pending database migrations to DATABASE_PATH (refused while the service holds it) or DATABASE_URL (safe while replicas run)",
    )
    .action(run(async () => (await import("./commands/migrate.ts")).migrateCommand(io)));

  program
    .command("check-config")
    .description(
      "check the environment and COUNTERSIGN_CONFIG as `npm start` would; list every problem, or print agents, roles and policies",
    )
    .action(run(async () => (await import("./commands/check-config.ts")).checkConfig(io)));

  const policy = program.command("policy").description("policy tools");
  policy
    .command("test")
    .description(
      "dry run: which policy a request body matches, why earlier ones did not, and what would happen (stores nothing)",
    )
    .argument("<file>", "a JSON request body as for POST /v1/requests, or - for stdin")
    .option("--agent <id>", "the calling agent (default: the first in the config)")
    .action((file: string, opts: { agent?: string }) =>
      run(async () => (await import("./commands/policy-test.ts")).policyTest(io, file, opts))(),
    );

  const audit = program.command("audit").description("the hash-chained audit log");
  audit
    .command("verify")
    .description(
      "walk the audit chain (DATABASE_PATH, or an export) and name the first edited, deleted, inserted or reordered event",
    )
    .option("--file <export.jsonl>", "verify an `audit export` file instead of the database")
    .option(
      "--anchor <hash>",
      "a head hash recorded earlier: it must still be in the chain (catches a cut tail)",
    )
    .action((opts: { file?: string; anchor?: string }) =>
      run(async () => (await import("./commands/audit.ts")).auditVerify(io, opts))(),
    );
  audit
    .command("export")
    .description(
      "write audit events as JSON Lines with their hashes (a header line, then one event per line)",
    )
    .option("--since <ISO>", "from the first event at or after this time (verifies from its prev_hash)")
    .option("--request <id>", "only this request's events")
    .addOption(new Option("--output <path>", "write here instead of stdout"))
    .action((opts: { since?: string; request?: string; output?: string }) =>
      run(async () => (await import("./commands/audit.ts")).auditExport(io, opts))(),
    );

  const keys = program.command("keys").description("approval-token signing keys");
  keys
    .command("rotate")
    .description(
      "make a new signing key active; the old one stays in the JWKS until every token it signed has expired (safe while the service runs)",
    )
    .option("--key <file.pem>", "use this Ed25519 private key (PKCS#8 PEM) instead of generating one")
    .action((opts: { key?: string }) =>
      run(async () => (await import("./commands/keys-rotate.ts")).keysRotate(io, opts, Date.now()))(),
    );

  program
    .command("backup")
    .description(
      "a consistent copy of DATABASE_PATH made with SQLite's online backup API, safe while the service runs",
    )
    .argument("<path>", "the new file to write (must not exist)")
    .action((path: string) => run(async () => (await import("./commands/backup.ts")).backup(io, path))());

  for (const command of program.commands) {
    command.addHelpText("after", ENV_HELP);
    for (const sub of command.commands) sub.addHelpText("after", ENV_HELP);
  }

  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT.usage;
    }
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" || error.code === "commander.version"
        ? EXIT.ok
        : EXIT.usage;
    }
    if (error instanceof UsageError) {
      line(io.stderr, `countersign: ${error.message}${error.problems.length > 0 ? ":" : ""}`);
      for (const p of error.problems) line(io.stderr, `  - ${p}`);
      return EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    line(io.stderr, `countersign: failed: ${message}`);
    return EXIT.failed;
  }
}
