import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SUPPORT_TOKEN, startTestDemo } from "../demo/support.ts";
import { useCleanups } from "../support/cleanups.ts";

const cleanups = useCleanups();
const EXAMPLES = fileURLToPath(new URL("../../clients/typescript/examples/", import.meta.url));

/** Runs an example as a user would (`node examples/….ts`), the package resolved from source. */
function runExample(file: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [`${EXAMPLES}${file}`], {
    env: { PATH: process.env.PATH ?? "", TSX_TSCONFIG_PATH: `${EXAMPLES}tsconfig.json`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill();
  });
  return { exited, output: () => ({ stdout, stderr }) };
}

describe("README: the ten-line guard() example against npm run demo", () => {
  it("demo + example → evidence pack in #support-approvals → approve in the simulator → fn runs with a verified token, outcome succeeded", async () => {
    const demo = await startTestDemo();
    cleanups.push(() => demo.stop());
    const example = runExample("guard-refund.ts", {
      COUNTERSIGN_URL: demo.demo.apiUrl,
      COUNTERSIGN_TOKEN: SUPPORT_TOKEN,
    });

    // The evidence pack as the simulator shows it, with its Approve button.
    let button: { ts: string; id: string } | undefined;
    for (const deadline = Date.now() + 15_000; !button; ) {
      if (Date.now() > deadline) throw new Error(`no evidence pack: ${JSON.stringify(example.output())}`);
      const text = JSON.stringify((await demo.sim("/sim/state?channel=C0SUPPORT")).json);
      const ts = /"data-ts":"([0-9.]+)"/.exec(text)?.[1];
      const id = /"data-value":"(req_[A-Za-z0-9_-]+)"/.exec(text)?.[1];
      if (ts && id) button = { ts, id };
      else await new Promise((r) => setTimeout(r, 50));
    }
    const clicked = await demo.sim("/sim/click", {
      as: "U0LEAD1",
      channel: "C0SUPPORT",
      ts: button.ts,
      actionId: "approve",
      value: button.id,
    });
    expect(clicked.status).toBe(200);

    expect(await example.exited, JSON.stringify(example.output())).toBe(0);
    expect(example.output().stdout.trim()).toBe("refunded 120 USD, approved by U0LEAD1");
    const stored = await demo.api("GET", `/v1/requests/${button.id}`);
    expect(stored.json).toMatchObject({ status: "approved", outcome: { status: "succeeded" } });
  });
});
