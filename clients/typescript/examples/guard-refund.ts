// The guard() example of the README and docs/typescript-client.md (the docs test keeps them equal).
// Against `npm run demo`:
//   node clients/typescript/examples/guard-refund.ts
// then approve the request in the simulator (http://localhost:3001/sim, #support-approvals).
import { guard } from "@countersign/client";

const refund = { amount: 120, currency: "USD", order_id: "48213" };
const receipt = await guard(
  { action: "refund.issue", summary: "Refund $120 to Dana Ruiz for a defective blender", params: refund },
  async (params, { claims }) =>
    `refunded ${params.amount} ${params.currency}, approved by ${claims.approvers.join(", ")}`,
  {
    baseUrl: process.env.COUNTERSIGN_URL ?? "http://localhost:3000",
    token: process.env.COUNTERSIGN_TOKEN ?? "demo-support-bot-token",
  },
);
console.log(receipt);
