import type { z } from "zod";
import type { createRequestBodySchema } from "../../src/approvals/request-body.ts";

/** CONTRACT §3's example body of POST /v1/requests, every optional field set. */
export const CONTRACT_EXAMPLE = {
  action: "refund.issue",
  summary: "Refund $75 to Dana Ruiz for a defective blender",
  target: "order #48213",
  params: { amount: 75, currency: "USD", order_id: "48213" },
  reason: "Product has a known defect; within the 30-day window",
  risk: { tier: "medium", score: 62, reasons: ["amount over $50"] },
  evidence: [
    { title: "Customer message", text: "It stopped working after two days…" },
    { title: "Order", url: "https://shop.example.com/orders/48213" },
    { title: "Proposed reply", text: "Hi Dana, …", format: "markdown" },
  ],
  run_id: "run_7f3a",
  on_behalf_of: "U0REQUESTER",
  callback_url: "https://agent.example.com/hooks/approvals",
  ttl: "20m",
} satisfies z.input<typeof createRequestBodySchema>;

const { action, summary, target, params, reason, risk, evidence } = CONTRACT_EXAMPLE;

/**
 * The request most tests send: CONTRACT §3's example routed to support-lead,
 * without the fields that change what happens after (callback, ttl, on_behalf_of).
 */
export const REFUND = { action, summary, target, params, reason, risk, evidence: [evidence[0]] };
