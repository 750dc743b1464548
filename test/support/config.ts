import { type AppConfig, parseConfig } from "../../src/config/file.ts";

export const TOKENS = {
  support: "support-bot-token-0123456789",
  deploy: "deploy-bot-token-0123456789ab",
} as const;
export const SECRETS = {
  support: `whsec_${Buffer.from("support-bot-webhook-secret-32-bytes!").toString("base64")}`,
} as const;

/** The configuration most tests run with: CONTRACT §2's example plus a deploy route. */
export const TEST_CONFIG_YAML = `
agents:
  - id: support-bot
    token: \${SUPPORT_TOKEN}
    callback_secret: \${SUPPORT_SECRET}
  - id: deploy-bot
    token: \${DEPLOY_TOKEN}
    callback_hosts: [ci.example.com]
roles:
  support-lead:
    channel: C0SUPPORT
    approvers: [U0LEAD1, U0LEAD2]
    usergroup: S0LEADS
    escalate_to: U0MANAGER
  finance:
    channel: C0FINANCE
    approvers: [U0FIN1, U0FIN2, U0FIN3]
    escalate_to: U0CFO
policies:
  - name: small-refunds
    match: { action: "refund.*", params.amount: { lt: 50 } }
    decision: approve
  - name: medium-refunds
    match: { action: "refund.*", params.amount: { lte: 200 } }
    route: support-lead
    ttl: 30m
    escalate_after: 15m
  - name: large-refunds
    match: { action: "refund.*" }
    route: finance
    approvals: 2
    ttl: 4h
    escalate_after: 2h
  - name: no-deletes
    match: { action: "db.drop*" }
    decision: reject
redact: [card_number]
# Tests deliver callbacks to receivers on 127.0.0.1.
callbacks: { allow_private_targets: true }
`;

export function testConfig(yaml = TEST_CONFIG_YAML): AppConfig {
  const result = parseConfig(yaml, {
    SUPPORT_TOKEN: TOKENS.support,
    SUPPORT_SECRET: SECRETS.support,
    DEPLOY_TOKEN: TOKENS.deploy,
  });
  if (!result.ok) throw new Error(`test config invalid: ${JSON.stringify(result.problems)}`);
  return result.config;
}

/** TEST_CONFIG_YAML with approve-with-edits on the routed refund policies (CONTRACT §9). */
export const EDITS_CONFIG_YAML = TEST_CONFIG_YAML.replace(
  "    ttl: 30m\n",
  "    ttl: 30m\n    edits: true\n",
).replace("    approvals: 2\n", "    approvals: 2\n    edits: true\n");
