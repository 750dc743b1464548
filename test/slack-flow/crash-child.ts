/**
 * Runs countersign in a child process for the kill -9 test:
 *   node test/slack-flow/crash-child.ts <dbPath|postgres://…> <slackApiUrl> <clockMs> [leaseMs]
 * Prints one JSON line `{ "url": … }` once it listens, then runs until killed.
 */
import { pino } from "pino";
import { startService } from "../../src/service.ts";
import { FakeClock } from "../support/clock.ts";
import { testConfig } from "../support/config.ts";
import { BOT_TOKEN, SIGNING_SECRET } from "../support/harness.ts";

const [dbPath, apiUrl, clockMs, leaseMs] = process.argv.slice(2);
if (dbPath === undefined || apiUrl === undefined || clockMs === undefined) {
  process.stderr.write("usage: crash-child.ts <dbPath> <slackApiUrl> <clockMs>\n");
  process.exit(2);
}

const service = await startService({
  config: testConfig(),
  slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, appToken: null, apiUrl },
  port: 0,
  host: "127.0.0.1",
  database: dbPath.startsWith("postgres://") ? { postgresUrl: dbPath } : dbPath,
  ...(leaseMs === undefined ? {} : { leaseMs: Number(leaseMs) }),
  log: pino({ level: "warn" }, pino.destination(2)),
  clock: new FakeClock(Number(clockMs)),
  sweepCron: null,
  outbox: { pollMs: 20 },
  callbacks: { pollMs: 20 },
});
process.stdout.write(`${JSON.stringify({ url: service.url })}\n`);
