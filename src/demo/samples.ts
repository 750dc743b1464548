import { REQUESTER } from "./directory.ts";

/** Realistic agent requests the simulator's "send a sample request" panel posts through the real API. */

export type Sample = {
  id: string;
  label: string;
  /** What the demo config does with it, shown next to the button. */
  expect: string;
  /** Which demo agent sends it (an agent id of demo-config.yml). */
  agent: string;
  body: Record<string, unknown>;
};

export const SAMPLES: readonly Sample[] = [
  {
    id: "small-refund",
    label: "Refund $30",
    expect: "under the limit: approved by policy, no human",
    agent: "support-bot",
    body: {
      action: "refund.issue",
      summary: "Refund $30 to Marcus Lee for a late delivery",
      target: "order #51877",
      params: { amount: 30, currency: "USD", order_id: "51877" },
      reason: "Parcel arrived 4 days after the promised date; goodwill credit per policy",
      risk: { tier: "low", score: 12 },
      run_id: "run_2c91",
    },
  },
  {
    id: "medium-refund",
    label: "Refund $120",
    expect: "#support-approvals, one approver; escalates after 1m",
    agent: "support-bot",
    body: {
      action: "refund.issue",
      summary: "Refund $120 to Dana Ruiz for a defective blender",
      target: "order #48213",
      params: { amount: 120, currency: "USD", order_id: "48213", method: "original_payment" },
      reason: "Product has a known defect (batch B-2291); within the 30-day window",
      risk: {
        tier: "medium",
        score: 62,
        reasons: ["amount over $50", "second refund for this customer in 90 days"],
      },
      evidence: [
        {
          title: "Customer message",
          text: "Hi, the blender I bought stopped working after two days. It makes a grinding noise and then shuts off. I'd like my money back please.",
        },
        { title: "Order #48213", url: "https://shop.example.com/orders/48213" },
        {
          title: "Proposed reply",
          format: "markdown",
          text: "Hi Dana, I'm sorry about the blender. I've issued a *full refund of $120* to your original payment method; it should arrive within _3–5 business days_.",
        },
      ],
      run_id: "run_7f3a",
      on_behalf_of: REQUESTER,
    },
  },
  {
    id: "large-refund",
    label: "Refund $900",
    expect: "#finance-approvals, needs 2 approvers; card number redacted",
    agent: "support-bot",
    body: {
      action: "refund.issue",
      summary: "Refund $900 to Northwind Traders for an unused annual plan",
      target: "invoice INV-2024-0193",
      params: {
        amount: 900,
        currency: "USD",
        invoice_id: "INV-2024-0193",
        card_number: "4242 4242 4242 4242",
        prorated: false,
      },
      reason: "Customer cancelled 3 days after renewal; the contract allows a full refund within 7 days",
      risk: { tier: "high", score: 78, reasons: ["amount over $500", "full refund of an annual plan"] },
      evidence: [
        {
          title: "Cancellation request",
          text: "Please cancel our renewal, we moved to another vendor last month.",
        },
        { title: "Contract, §4.2 Refunds", url: "https://docs.example.com/contracts/northwind#refunds" },
      ],
      run_id: "run_b81e",
      on_behalf_of: REQUESTER,
    },
  },
  {
    id: "deploy",
    label: "Deploy to production",
    expect: "#sre-approvals, risk high: Approve asks to confirm",
    agent: "deploy-bot",
    body: {
      action: "deploy.production",
      summary: "Deploy checkout-service v2.14.0 to production",
      target: "checkout-service (prod, eu-west-1)",
      params: {
        service: "checkout-service",
        version: "v2.14.0",
        from_version: "v2.13.4",
        strategy: "canary 10% → 100%",
        change: "CHG-4471",
      },
      reason: "Fixes double-charging on retried payments (INC-982); canary passed in staging",
      risk: {
        tier: "high",
        score: 81,
        reasons: ["touches the payment path", "schema migration: adds orders.refund_reason"],
      },
      evidence: [
        {
          title: "CI run #5521: 1,204 tests passed",
          url: "https://ci.example.com/checkout-service/runs/5521",
        },
        {
          title: "Migration",
          format: "markdown",
          text: "```ALTER TABLE orders ADD COLUMN refund_reason text;```\nBackwards compatible: the old version ignores the column.",
        },
      ],
      run_id: "deploy_2291",
    },
  },
  {
    id: "email",
    label: "Email a customer",
    expect: "#support-approvals, one approver",
    agent: "support-bot",
    body: {
      action: "email.send",
      summary: "Send an apology email to Priya Natarajan about order #50112",
      target: "priya.natarajan@example.com",
      params: {
        to: "priya.natarajan@example.com",
        subject: "About your order #50112",
        template: "apology_v3",
        coupon: "SORRY15",
      },
      reason: "The order shipped with a missing part; the customer asked twice for an update",
      risk: { tier: "low", score: 20, reasons: ["includes a 15% coupon"] },
      evidence: [
        {
          title: "Draft email",
          format: "markdown",
          text: "Hi Priya,\n\nI'm *really sorry* that order #50112 arrived without the lid. A replacement ships _today_ by express post.\n> As a thank-you for your patience, here is 15% off your next order: `SORRY15`\n\nBest, the Support team",
        },
      ],
      run_id: "run_5d0c",
      on_behalf_of: REQUESTER,
    },
  },
];

export function findSample(id: string): Sample | undefined {
  return SAMPLES.find((s) => s.id === id);
}
