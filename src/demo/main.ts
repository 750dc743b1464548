import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { loadDemoEnv } from "../config/demo-env.ts";
import { createLogger } from "../log.ts";
import { DatabaseLockedError } from "../storage/open.ts";
import { freshDemoDatabase } from "./fresh-database.ts";
import { DEMO_CONFIG_URL, type Demo, startDemo } from "./start.ts";

/**
 * `npm run demo`: countersign plus a simulated Slack on localhost, no Slack app,
 * tokens or public URL. Reads PORT (default 3000), SIM_PORT (default 3001),
 * DATABASE_PATH (default ./data/demo.db), LOG_LEVEL (default warn) and
 * DEMO_SOCKET_MODE only; never any Slack setting. Never imported by src/main.ts.
 */

function banner(demo: Demo, dbPath: string, socketMode: boolean): string {
  const api = demo.apiUrl.replace("127.0.0.1", "localhost");
  const sim = demo.simUrl.replace("127.0.0.1", "localhost");
  const agents = demo.config.agents;
  const width = Math.max(...agents.map((a) => a.id.length));
  const token = agents[0]?.token ?? "";
  const config = relative(process.cwd(), fileURLToPath(DEMO_CONFIG_URL));
  return `
countersign demo: the whole approval loop, with a simulated Slack${socketMode ? " (Socket Mode)" : ""}

  Simulated Slack   ${sim}   <- open this in a browser
  Agent API         ${api}/v1
  Database          ${dbPath} (fresh on every run)
  Slack traffic     ${socketMode ? "Socket Mode: envelopes over the simulator's WebSocket" : "HTTP: signed posts to /slack/events"}
  Config            ${config}

  Demo agent tokens ${agents.map((a, i) => `${i === 0 ? "" : "                    "}${a.id.padEnd(width)}  ${a.token}`).join("\n")}

  Ask for an approval as an agent would (the same commands as in the README):

    export COUNTERSIGN_URL=${api} SUPPORT_BOT_TOKEN=${token}
    ID=$(curl -sS "$COUNTERSIGN_URL/v1/requests" \\
      -H "Authorization: Bearer $SUPPORT_BOT_TOKEN" -H 'Content-Type: application/json' \\
      -d '{"action":"refund.issue","summary":"Refund $120 to Dana Ruiz","params":{"amount":120,"currency":"USD"},
           "callback_url":"${sim.replace(/\/sim$/, "")}/sim/callbacks/support-bot"}' \\
      | node -pe 'JSON.parse(fs.readFileSync(0, "utf8")).id')
    curl -sS "$COUNTERSIGN_URL/v1/requests/$ID?wait=60" -H "Authorization: Bearer $SUPPORT_BOT_TOKEN"

  Approve it in #support-approvals on the simulator page while the second curl waits;
  the signed callback then shows up there under "Callbacks received".

  Ctrl-C stops both.
`;
}

async function main(): Promise<void> {
  const settings = loadDemoEnv(process.env);
  if (!settings.ok) {
    process.stderr.write(
      `countersign demo: invalid environment:\n${settings.problems.map((p) => `  - ${p}\n`).join("")}`,
    );
    process.exit(2);
  }
  const { port, simPort, logLevel, socketMode, databasePath } = settings.env;
  const log = createLogger(logLevel);

  let demo: Demo;
  try {
    freshDemoDatabase(databasePath);
    demo = await startDemo({ port, simPort, dbPath: databasePath, log, socketMode });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === "EADDRINUSE"
        ? `a port is already in use (PORT=${port}, SIM_PORT=${simPort}); pick others, e.g. PORT=4000 SIM_PORT=4001 npm run demo`
        : error instanceof DatabaseLockedError
          ? `${error.message} (a second demo: DATABASE_PATH=./data/demo-2.db PORT=4000 SIM_PORT=4001 npm run demo)`
          : error instanceof Error
            ? error.message
            : String(error);
    process.stderr.write(`countersign demo: failed to start: ${message}\n`);
    process.exit(error instanceof DatabaseLockedError ? 2 : 1);
  }
  process.stdout.write(banner(demo, databasePath, socketMode));

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\ncountersign demo: stopping…\n");
    const force = setTimeout(() => {
      process.stderr.write("countersign demo: shutdown took longer than 10s; exiting\n");
      process.exit(1);
    }, 10_000);
    force.unref();
    demo.stop().then(
      () => {
        process.stdout.write("countersign demo: stopped\n");
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`countersign demo: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

void main();
