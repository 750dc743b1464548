import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/file.ts";

const EXAMPLE = readFileSync(
  fileURLToPath(new URL("../../countersign.example.yml", import.meta.url)),
  "utf8",
);
const ENV = {
  SUPPORT_BOT_TOKEN: "s".repeat(32),
  DEPLOY_BOT_TOKEN: "d".repeat(32),
  SUPPORT_BOT_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString("base64")}`,
  DEPLOY_BOT_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 2).toString("base64")}`,
};

/** The keys the configuration accepts at one place, as its own "unknown key" message lists them. */
function allowedKeys(yaml: string, at: string): string[] {
  const result = parseConfig(yaml, ENV);
  const problem = result.ok ? undefined : result.problems.find((p) => p.path === at);
  const list = /expected one of: (.*)$/.exec(problem?.message ?? "")?.[1];
  if (list === undefined) throw new Error(`no unknown-key problem at ${at}: ${JSON.stringify(result)}`);
  return list.split(", ");
}

const BASE = `
agents: [{ id: a, token: "${"t".repeat(20)}" }]
roles: { r: { channel: C0AAA, approvers: [U0AAA] } }
policies: [{ name: p, match: {}, route: r }]
`;

describe("countersign.example.yml is complete", () => {
  it("parses with the set-up's variables, no problems", () => {
    const result = parseConfig(EXAMPLE, ENV);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it("names every key of the configuration (top level, agents, roles, policies, callbacks) as `key:`", () => {
    const keys = {
      "(top level)": allowedKeys(`${BASE}bogus_key: 1\n`, "bogus_key"),
      agents: allowedKeys(BASE.replace("id: a,", "id: a, bogus_key: 1,"), "agents[0].bogus_key"),
      roles: allowedKeys(
        BASE.replace("channel: C0AAA,", "channel: C0AAA, bogus_key: 1,"),
        "roles.r.bogus_key",
      ),
      policies: allowedKeys(BASE.replace("name: p,", "name: p, bogus_key: 1,"), "policies[0].bogus_key"),
      callbacks: allowedKeys(`${BASE}callbacks: { bogus_key: 1 }\n`, "callbacks.bogus_key"),
    };
    const missing = Object.entries(keys).flatMap(([where, list]) =>
      list.filter((k) => !new RegExp(`(^|[\\s{,#])${k}:`, "m").test(EXAMPLE)).map((k) => `${where}: ${k}`),
    );
    expect(missing).toEqual([]);
  });
});
