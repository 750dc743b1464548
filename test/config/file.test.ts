// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${VAR} syntax
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfigFile, parseConfig } from "../../src/config/file.ts";
import { findPolicy } from "../../src/policy/match.ts";

const secret = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString("base64")}`;
const TOKEN = "tok_0123456789abcdef";

const sampleEnv = {
  SUPPORT_BOT_TOKEN: "sb_0123456789abcdef0123",
  SUPPORT_BOT_WEBHOOK_SECRET: secret(32),
  DEPLOY_BOT_TOKEN: "db_0123456789abcdef0123",
  DEPLOY_BOT_WEBHOOK_SECRET: secret(24),
};

/** A minimal valid config; `extra` is appended verbatim, so tests can add roles/policies. */
const minimal = (policies = "  - { name: all, match: {}, decision: approve }", extra = "") =>
  `agents:\n  - id: bot\n    token: ${TOKEN}\npolicies:\n${policies}\n${extra}`;

const problemsOf = (yaml: string, env: Record<string, string | undefined> = {}) => {
  const result = parseConfig(yaml, env);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};

const configOf = (yaml: string, env: Record<string, string | undefined> = {}) => {
  const result = parseConfig(yaml, env);
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
  return result.config;
};

const financeRole = `roles:
  finance:
    channel: C0FINANCE
    approvers: [U0FIN1, U0FIN2]
    escalate_to: U0CFO
  ops:
    channel: G0OPS
    usergroup: S0OPS
`;

describe("countersign.example.yml", () => {
  const text = readFileSync(new URL("../../countersign.example.yml", import.meta.url), "utf8");

  it("parses with its environment variables set", () => {
    const config = configOf(text, sampleEnv);
    expect(config.agents.map((a) => [a.id, a.token, a.callback_secret])).toEqual([
      ["support-bot", sampleEnv.SUPPORT_BOT_TOKEN, sampleEnv.SUPPORT_BOT_WEBHOOK_SECRET],
      ["deploy-bot", sampleEnv.DEPLOY_BOT_TOKEN, sampleEnv.DEPLOY_BOT_WEBHOOK_SECRET],
    ]);
    expect(Object.keys(config.roles)).toEqual(["support-lead", "finance", "sre"]);
    expect(config.roles.finance).toEqual({
      channel: "C0FINANCE",
      approvers: ["U0FIN1", "U0FIN2", "U0FIN3"],
      usergroup: null,
      escalate_to: "U0CFO",
    });
    expect(config.redact).toEqual(["card_number", "ssn", "password"]);
    const byName = Object.fromEntries(config.policies.map((p) => [p.name, p]));
    expect(config.policies.at(-1)?.name).toBe("default-deny");
    expect(byName["medium-refunds"]).toMatchObject({
      route: "support-lead",
      ttlMs: 1_800_000,
      escalateAfterMs: 900_000,
      approvals: 1,
    });
    expect(byName["large-refunds"]).toMatchObject({
      route: "finance",
      ttlMs: 14_400_000,
      escalateAfterMs: 7_200_000,
      approvals: 2,
    });
    expect(byName["small-refunds"]).toMatchObject({ decision: "approve", route: null });
  });

  it("routes sample requests to the policies it documents", () => {
    const { policies } = configOf(text, sampleEnv);
    const route = (input: Record<string, unknown>) =>
      findPolicy(policies, { action: "refund.issue", agent: "support-bot", params: {}, ...input })?.name;
    expect(route({ params: { amount: 20 } })).toBe("small-refunds");
    expect(route({ params: { amount: 75 } })).toBe("medium-refunds");
    expect(route({ params: { amount: 900 } })).toBe("large-refunds");
    expect(route({ action: "deploy.api", agent: "deploy-bot", risk: { tier: "critical" } })).toBe(
      "risky-deploys",
    );
    expect(route({ action: "deploy.api", agent: "deploy-bot", risk: { tier: "low" } })).toBe(
      "routine-deploys",
    );
    expect(route({ action: "deploy.api", agent: "support-bot", risk: { tier: "high" } })).toBe(
      "default-deny",
    );
    expect(route({ action: "user.delete" })).toBe("default-deny");
  });

  it("names every missing variable by path", () => {
    expect(
      problemsOf(text, { ...sampleEnv, DEPLOY_BOT_TOKEN: undefined, SUPPORT_BOT_WEBHOOK_SECRET: "" }),
    ).toEqual([
      "agents[0].callback_secret: environment variable SUPPORT_BOT_WEBHOOK_SECRET is empty",
      "agents[1].token: environment variable DEPLOY_BOT_TOKEN is not set",
    ]);
  });
});

describe("defaults", () => {
  it("fills in every optional field", () => {
    const config = configOf(
      minimal(
        "  - { name: r, match: { action: 'x.*' }, route: ops }",
        "roles:\n  ops: { channel: C0OPS, usergroup: S0OPS }",
      ),
    );
    expect(config.agents).toEqual([{ id: "bot", token: TOKEN, callback_secret: null, callback_hosts: null }]);
    expect(config.roles).toEqual({
      ops: { channel: "C0OPS", approvers: [], usergroup: "S0OPS", escalate_to: null },
    });
    expect(config.redact).toEqual([]);
    const [policy] = config.policies;
    expect(policy).toMatchObject({
      name: "r",
      decision: null,
      route: "ops",
      ttlMs: 3_600_000,
      escalateAfterMs: null,
      approvals: 1,
    });
    expect(policy?.match.test({ action: "x.y", agent: "bot" })).toBe(true);
    expect(policy?.match.test({ action: "y.x", agent: "bot" })).toBe(false);
  });

  it("allows no roles when no policy routes, and an empty roles mapping", () => {
    expect(configOf(minimal()).roles).toEqual({});
    expect(configOf(minimal(undefined, "roles:\n")).roles).toEqual({});
  });

  it("lowercases callback hosts and accepts wildcards", () => {
    const yaml = `agents:\n  - { id: bot, token: ${TOKEN}, callback_hosts: [Hooks.Example.COM, "*.ci.example.com"] }\npolicies:\n  - { name: a, match: {}, decision: reject }`;
    expect(configOf(yaml).agents[0]?.callback_hosts).toEqual(["hooks.example.com", "*.ci.example.com"]);
  });

  it.each([24, 32, 64])("accepts a callback secret of %d bytes", (bytes) => {
    const yaml = `agents:\n  - { id: bot, token: ${TOKEN}, callback_secret: "${secret(bytes)}" }\npolicies:\n  - { name: a, match: {}, decision: reject }`;
    expect(configOf(yaml).agents[0]?.callback_secret).toBe(secret(bytes));
  });
});

describe("${VAR} expansion", () => {
  it("expands every string value, including several in one string and in nested places", () => {
    const yaml = `agents:\n  - id: \${BOT_ID}\n    token: \${PREFIX}_\${SUFFIX}\npolicies:\n  - { name: a, match: { params.region: "\${REGION}" }, decision: approve }`;
    const config = configOf(yaml, {
      BOT_ID: "bot-1",
      PREFIX: "tok",
      SUFFIX: "0123456789abcdef",
      REGION: "eu",
    });
    expect(config.agents[0]).toMatchObject({ id: "bot-1", token: "tok_0123456789abcdef" });
    expect(config.policies[0]?.match.spec).toEqual({ "params.region": "eu" });
    expect(config.policies[0]?.match.test({ action: "a", agent: "bot-1", params: { region: "eu" } })).toBe(
      true,
    );
  });

  it("turns $${X} into a literal ${X} without reading the environment", () => {
    const yaml = minimal().replace(TOKEN, () => "tok_$${NOT_A_VAR}_0123456789");
    expect(yaml).toContain("$${NOT_A_VAR}");
    expect(configOf(yaml, { NOT_A_VAR: "oops" }).agents[0]?.token).toBe("tok_${NOT_A_VAR}_0123456789");
  });

  it("reports a missing or empty variable at the value's path, once", () => {
    const yaml = `agents:\n  - { id: a, token: "\${SUPPORT_BOT_TOKEN}" }\n  - { id: b, token: "\${SUPPORT_BOT_TOKEN}" }\n  - { id: c, token: "\${EMPTY}" }\npolicies:\n  - { name: a, match: {}, decision: approve }`;
    expect(problemsOf(yaml, { EMPTY: "" })).toEqual([
      "agents[0].token: environment variable SUPPORT_BOT_TOKEN is not set",
      "agents[1].token: environment variable SUPPORT_BOT_TOKEN is not set",
      "agents[2].token: environment variable EMPTY is empty",
    ]);
  });

  it("reports malformed references", () => {
    const yaml = minimal(
      `  - { name: "\${1X}", match: {}, decision: approve }\n  - { name: "\${OPEN", match: {}, decision: reject }`,
    );
    expect(problemsOf(yaml)).toEqual([
      'policies[0].name: "${1X}" is not a variable reference; write ${NAME}',
      'policies[1].name: has "${" without a closing "}"; write ${NAME}, or $${ for a literal ${',
    ]);
  });
});

describe("file-level problems", () => {
  it("reports a YAML syntax error with line and column", () => {
    expect(problemsOf("agents:\n  - id: bot\n    token: [unclosed\npolicies: []\n")).toEqual([
      expect.stringMatching(/^\(file\): YAML syntax error at line 4, column 1: /),
    ]);
  });

  it("reports duplicate keys as a YAML error", () => {
    expect(problemsOf(`${minimal()}\npolicies: []\n`)).toEqual([
      expect.stringMatching(/^\(file\): YAML syntax error at line \d+, column \d+: Map keys must be unique/),
    ]);
  });

  it.each([
    ["", "(file): is empty; expected agents, roles and policies"],
    ["# nothing here\n", "(file): is empty; expected agents, roles and policies"],
    ["- a\n- b\n", "(file): must be a mapping with agents, roles and policies (got a list)"],
  ])("rejects %j", (yaml, problem) => {
    expect(problemsOf(yaml)).toEqual([problem]);
  });

  it("needs at least one agent and one policy, and knows its top-level keys", () => {
    expect(problemsOf("agents: []\nroles: {}\nredact: [card_number, 5]\npolcies: []\n")).toEqual([
      "agents: must list at least one agent",
      "policies: required",
      "redact[1]: must be a string (got 5)",
      "polcies: unknown key; expected one of: agents, roles, policies, redact, callbacks, issuer",
    ]);
    expect(problemsOf(minimal("  []"))).toEqual(["policies: must list at least one policy"]);
    expect(problemsOf(`agents: { id: bot }\npolicies: []`)).toEqual([
      "agents: must be a list (got a mapping)",
      "policies: must list at least one policy",
    ]);
  });

  it("loads a file from disk and reports a missing one clearly", () => {
    const dir = mkdtempSync(join(tmpdir(), "countersign-config-"));
    const path = join(dir, "countersign.yml");
    writeFileSync(path, minimal());
    const loaded = loadConfigFile(path, {});
    expect(loaded.ok && loaded.config.agents[0]?.id).toBe("bot");
    expect(loadConfigFile(join(dir, "nope.yml"), {})).toEqual({
      ok: false,
      problems: [
        {
          path: "(file)",
          message: `${join(dir, "nope.yml")} does not exist; create it (see countersign.example.yml) or point COUNTERSIGN_CONFIG at it`,
        },
      ],
    });
  });
});

describe("agents", () => {
  it("reports every agent problem by path", () => {
    const yaml = `agents:
  - { id: Support Bot, token: short }
  - { id: dup, token: ${TOKEN}, callback_secret: "abc", colour: red }
  - { id: dup, token: ${TOKEN}, callback_secret: "whsec_not base64!" }
  - { id: "", token: other_0123456789ab, callback_secret: "${secret(16)}" }
  - { id: big, token: big_0123456789abcd, callback_secret: "${secret(65)}", callback_hosts: ["bad host"] }
  - { id: none, token: none_0123456789abc, callback_hosts: [] }
  - { token: notid_0123456789ab }
policies:
  - { name: a, match: {}, decision: approve }`;
    expect(problemsOf(yaml)).toEqual([
      'agents[0].id: must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (got "Support Bot")',
      "agents[0].token: must be at least 16 characters (try: openssl rand -hex 32)",
      'agents[1].callback_secret: must start with "whsec_" (a Standard Webhooks secret)',
      "agents[1].colour: unknown key; expected one of: id, token, callback_secret, callback_hosts",
      'agents[2].callback_secret: must be "whsec_" followed by base64',
      'agents[3].id: must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (got "")',
      'agents[3].callback_secret: must be "whsec_" + base64 of 24 to 64 bytes, but decodes to 16 bytes (try: echo "whsec_$(openssl rand -base64 32)")',
      'agents[4].callback_secret: must be "whsec_" + base64 of 24 to 64 bytes, but decodes to 65 bytes (try: echo "whsec_$(openssl rand -base64 32)")',
      'agents[4].callback_hosts[0]: must be a host name such as hooks.example.com or *.example.com (got "bad host")',
      "agents[5].callback_hosts: must list at least one host, or be left out to allow any host",
      "agents[6].id: required",
      'agents[2].id: duplicate agent id "dup" (also agents[1])',
      "agents[2].token: same token as agents[1]; each agent needs its own",
    ]);
  });
});

describe("roles", () => {
  it("reports every role problem by path", () => {
    const yaml = minimal(
      undefined,
      `roles:
  finance:
    channel: "#finance"
    approvers: [bob, U0FIN1]
    usergroup: finance-team
    escalate_to: cfo
  nobody:
    channel: C0NOBODY
  nested:
    channel: C0NESTED
    approvers: U0ONE
  support-lead:
    channel: C0SUPPORT
    approvers: [W0LEAD1]
    manager: U0BOSS`,
    );
    expect(problemsOf(yaml)).toEqual([
      'roles.finance.channel: must be a Slack channel id like "C0123ABCD" (not a #name) (got "#finance")',
      'roles.finance.approvers[0]: must be a Slack user id like "U0123ABCD" (got "bob")',
      'roles.finance.usergroup: must be a Slack user group id like "S0123ABCD" (got "finance-team")',
      'roles.finance.escalate_to: must be a Slack user id like "U0123ABCD" (got "cfo")',
      'roles.nested.approvers: must be a list (got "U0ONE")',
      "roles.support-lead.manager: unknown key; expected one of: channel, approvers, usergroup, escalate_to",
      "roles.nobody: needs approvers or a usergroup; nobody could approve its requests",
      "roles.nested: needs approvers or a usergroup; nobody could approve its requests",
    ]);
  });
});

describe("policies", () => {
  const policiesProblems = (policies: string) => problemsOf(minimal(policies, financeRole));

  it("needs exactly one of decision and route, and says which", () => {
    expect(
      policiesProblems(`  - { name: both, match: {}, decision: approve, route: finance }
  - { name: neither, match: {} }
  - { name: odd, match: {}, decision: maybe }`),
    ).toEqual([
      'policies[2].decision: must be approve or reject (got "maybe")',
      "policies[0]: has both decision and route; give exactly one",
      "policies[1]: needs exactly one of decision (approve or reject) or route (a role)",
    ]);
  });

  it("names the known roles when a route is unknown", () => {
    expect(policiesProblems("  - { name: a, match: {}, route: financ }")).toEqual([
      'policies[0].route: unknown role "financ"; known roles: finance, ops',
    ]);
    expect(problemsOf(minimal("  - { name: a, match: {}, route: finance }"))).toEqual([
      'policies[0].route: unknown role "finance"; no roles are defined',
    ]);
  });

  it("reports bad durations with the accepted forms", () => {
    const forms = "use a positive whole number followed by s, m, h or d, e.g. 90s, 30m, 4h, 2d";
    expect(
      policiesProblems(`  - { name: a, match: {}, route: finance, ttl: 45 minutes, escalate_after: 0m }
  - { name: b, match: {}, route: finance, ttl: 30 }`),
    ).toEqual([
      `policies[0].ttl: "45 minutes" is not a duration; ${forms}`,
      `policies[0].escalate_after: "0m" is not a duration; ${forms}`,
      `policies[1].ttl: 30 is not a duration; ${forms}`,
    ]);
  });

  it("needs escalate_after shorter than ttl, also the default ttl, and a role that can escalate", () => {
    expect(
      policiesProblems(`  - { name: equal, match: {}, route: finance, ttl: 30m, escalate_after: 30m }
  - { name: longer, match: {}, route: finance, escalate_after: 2h }
  - { name: fine, match: {}, route: finance, ttl: 30m, escalate_after: 1799s }
  - { name: no-manager, match: {}, route: ops, ttl: 1h, escalate_after: 10m }`),
    ).toEqual([
      "policies[0].escalate_after: must be shorter than ttl 30m (got 30m)",
      "policies[1].escalate_after: must be shorter than the default ttl 1h (got 2h)",
      'policies[3].escalate_after: role "ops" has no escalate_to; set roles.ops.escalate_to or remove this',
    ]);
  });

  it("checks approvals: a whole number >= 1 that the role's approvers can reach", () => {
    expect(
      policiesProblems(`  - { name: zero, match: {}, route: finance, approvals: 0 }
  - { name: half, match: {}, route: finance, approvals: 1.5 }
  - { name: text, match: {}, route: finance, approvals: "2" }
  - { name: three, match: {}, route: finance, approvals: 3 }
  - { name: two, match: {}, route: finance, approvals: 2 }
  - { name: group, match: {}, route: ops, approvals: 5 }`),
    ).toEqual([
      "policies[0].approvals: must be a whole number of at least 1 (got 0)",
      "policies[1].approvals: must be a whole number of at least 1 (got 1.5)",
      'policies[2].approvals: must be a whole number of at least 1 (got "2")',
      'policies[3].approvals: 3 approvals can never be satisfied: role "finance" has 2 approver(s) and no usergroup',
    ]);
  });

  it("says ttl, escalate_after and approvals mean nothing with a decision", () => {
    expect(
      policiesProblems(
        "  - { name: a, match: {}, decision: approve, ttl: 1h, escalate_after: 5m, approvals: 2 }",
      ),
    ).toEqual([
      "policies[0].ttl: means nothing with decision (no human is asked); remove it",
      "policies[0].escalate_after: means nothing with decision (no human is asked); remove it",
      "policies[0].approvals: means nothing with decision (no human is asked); remove it",
    ]);
  });

  it("reports names, unknown keys and matcher problems by path", () => {
    expect(
      policiesProblems(`  - { name: a, match: { params.amount: { lessthan: 5 }, risk: extreme }, decision: approve }
  - { name: a, match: {}, decision: approve, priority: 1 }
  - { name: "", match: {}, decision: approve }
  - { match: {}, decision: approve }
  - { name: m, decision: approve }`),
    ).toEqual([
      'policies[0].match["params.amount"]: unknown operator "lessthan"; use eq, in, lt, lte, gt, gte',
      'policies[0].match.risk: unknown risk tier "extreme"; use low, medium, high, critical',
      "policies[1].priority: unknown key; expected one of: name, match, decision, route, ttl, escalate_after, approvals, edits, sample, token_ttl",
      "policies[2].name: must not be empty",
      "policies[3].name: required",
      "policies[4].match: required (use {} to match everything)",
      'policies[1].name: duplicate policy name "a" (also policies[0])',
    ]);
  });
});

describe("every problem at once", () => {
  it("lists problems from every stage together", () => {
    const yaml = `agents:
  - { id: bot, token: "\${MISSING_TOKEN}" }
  - { id: bot, token: short }
roles:
  finance: { channel: C0FIN, approvers: [U0A] }
policies:
  - { name: big, match: { action: "refund.*" }, route: finance, approvals: 2, ttl: 4 hours }
  - { name: x, match: {}, route: nowhere }
extra: true`;
    expect(problemsOf(yaml)).toEqual([
      "agents[0].token: environment variable MISSING_TOKEN is not set",
      "agents[1].token: must be at least 16 characters (try: openssl rand -hex 32)",
      'policies[0].ttl: "4 hours" is not a duration; use a positive whole number followed by s, m, h or d, e.g. 90s, 30m, 4h, 2d',
      "extra: unknown key; expected one of: agents, roles, policies, redact, callbacks, issuer",
      'agents[1].id: duplicate agent id "bot" (also agents[0])',
      'policies[0].approvals: 2 approvals can never be satisfied: role "finance" has 1 approver(s) and no usergroup',
      'policies[1].route: unknown role "nowhere"; known roles: finance',
    ]);
  });
});

describe("approval token settings", () => {
  it("issuer defaults to countersign and token_ttl to 15m; both can be set", () => {
    const defaults = configOf(minimal());
    expect(defaults.issuer).toBe("countersign");
    expect(defaults.policies[0]?.tokenTtlMs).toBe(15 * 60_000);
    const set = configOf(
      `issuer: https://gate.example.com\n${minimal("  - { name: a, match: {}, decision: approve, token_ttl: 5m }")}`,
    );
    expect(set.issuer).toBe("https://gate.example.com");
    expect(set.policies[0]?.tokenTtlMs).toBe(5 * 60_000);
  });

  it("a bad token_ttl or issuer is refused by path; token_ttl on a reject policy means nothing", () => {
    expect(
      problemsOf(
        `issuer: ""\n${minimal(
          "  - { name: a, match: { action: x }, decision: approve, token_ttl: 15 minutes }\n  - { name: b, match: {}, decision: reject, token_ttl: 5m }",
        )}`,
      ),
    ).toEqual([
      'policies[0].token_ttl: "15 minutes" is not a duration; use a positive whole number followed by s, m, h or d, e.g. 90s, 30m, 4h, 2d',
      "issuer: must not be empty",
      "policies[1].token_ttl: means nothing with decision: reject (no token is issued); remove it",
    ]);
  });
});
