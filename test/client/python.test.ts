import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../clients/typescript/src/index.ts";
import { submitEditRaw } from "../slack-flow/helpers.ts";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { EDITS_CONFIG_YAML, SECRETS, TOKENS, testConfig } from "../support/config.ts";
import { eventually, type Harness } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";
import { harness } from "./helpers.ts";

const cleanups = useCleanups();
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Debian's python3 (with python3-pytest, -jwt, -cryptography), not whatever a version manager put first on PATH. */
const PYTHON =
  process.env.COUNTERSIGN_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

function python(
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
) {
  return spawnSync(PYTHON, args, {
    cwd: ROOT,
    encoding: "utf8",
    input: options.input,
    timeout: options.timeoutMs ?? 60_000,
    env: {
      ...process.env,
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONPATH: `${ROOT}clients/python`,
      ...options.env,
    },
  });
}

/** pytest as a child process, without blocking this process's event loop (the service under test runs in it). */
function pytest(args: string[], env: Record<string, string>, timeoutMs: number) {
  return new Promise<{ status: number | null; output: string }>((resolve, reject) => {
    const child = spawn(PYTHON, ["-m", "pytest", ...args], {
      cwd: ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env },
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.on("data", (chunk) => {
      text += chunk;
    });
    req.on("end", () => resolve(text === "" ? {} : JSON.parse(text)));
    req.on("error", reject);
  });
}

/**
 * What pytest cannot do over the agent API: be a person in Slack. `POST /next` waits for the
 * oldest pending request it has not decided yet, posted to Slack, and decides it as
 * `user`: approve, reject with `reason`, or approve with edited `params`.
 */
async function startControl(h: Harness): Promise<string> {
  const handled = new Set<string>();
  let turn: Promise<unknown> = Promise.resolve();
  const server = createServer(async (req, res) => {
    // One decision at a time: two waiting callers never pick the same request.
    const previous = turn;
    let done = () => {};
    turn = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      await previous;
      const input = await body(req);
      const user = String(input.user ?? "U0LEAD1");
      const id = await eventually(async () => {
        const list = (await h.api("GET", "/v1/requests")).json.data as { id: string; status: string }[];
        const next = list.filter((r) => r.status === "pending" && !handled.has(r.id)).at(-1);
        return next && (await h.service.deps.store.getRequest(next.id))?.slackTs ? next.id : undefined;
      }, 15_000);
      handled.add(id);
      if (input.decision === "reject") {
        await h.click(user, "reject", id);
        await h.submitReject(user, id, String(input.reason ?? "no"));
      } else if (input.decision === "edit") {
        await submitEditRaw(h, user, id, JSON.stringify(input.params));
      } else {
        await h.click(user, "approve", id);
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id }));
    } catch (error) {
      res.writeHead(500).end(String(error));
    } finally {
      done();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe.skipIf(onPostgres)("clients/python (Debian's python3-pytest against the real service)", () => {
  it("python3 -m pytest clients/python: every test passes, none skipped", async () => {
    // Tokens are verified against the real clock, so the service's clock starts at now.
    const h = await harness(cleanups, {
      config: testConfig(EDITS_CONFIG_YAML),
      clock: new FakeClock(Date.now()),
    });
    const control = await startControl(h);
    const { status, output } = await pytest(
      ["clients/python", "-p", "no:cacheprovider", "-q", "-rs", "-o", "faulthandler_timeout=60"],
      {
        COUNTERSIGN_TEST_URL: h.url,
        COUNTERSIGN_TEST_TOKEN: TOKENS.support,
        COUNTERSIGN_TEST_WEBHOOK_SECRET: SECRETS.support,
        COUNTERSIGN_TEST_CONTROL: control,
        COUNTERSIGN_REQUIRE_LIVE: "1",
      },
      240_000,
    );
    expect(status, output).toBe(0);
    expect(output).toMatch(/\d+ passed/);
    expect(output).not.toMatch(/skipped|xfail|deselected/);
  }, 300_000);

  it("canonical JSON: Python and TypeScript agree on any double and any JSON value (fast-check)", () => {
    const doubles = fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), 3000);
    const values = fc.sample(fc.dictionary(fc.string({ unit: "grapheme" }), fc.jsonValue()), 300);
    const texts = [...doubles.map((d) => JSON.stringify({ d })), ...values.map((v) => JSON.stringify(v))];
    const run = python(
      [
        "-c",
        "import json,sys\nfrom countersign import canonical_json\nprint(json.dumps([canonical_json(json.loads(t)) for t in json.load(sys.stdin)]))",
      ],
      { input: JSON.stringify(texts) },
    );
    expect(run.status, run.stderr).toBe(0);
    const fromPython = JSON.parse(run.stdout) as string[];
    expect(fromPython).toEqual(texts.map((t) => canonicalJson(JSON.parse(t))));
  });
});
