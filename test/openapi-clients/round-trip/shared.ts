/** What every round trip sends and how it reports: one JSON line on stdout, or exit 1 naming the step. */

/** A typed create body: numbers in params must compile (openapi-typescript once typed params as never). */
export const REQUEST = {
  action: "refund.issue",
  summary: "Refund $75 to Dana Ruiz for a defective blender",
  target: "order #48213",
  params: { amount: 75, currency: "USD", order_id: "48213", lines: [{ sku: "BL-1", qty: 1 }] },
  risk: { tier: "medium" as const, score: 62 },
  evidence: [{ title: "Order", url: "https://shop.example.com/orders/48213" }],
};

export function env(): { url: string; token: string } {
  const url = process.env.COUNTERSIGN_URL;
  const token = process.env.COUNTERSIGN_TOKEN;
  if (!url || !token) throw new Error("set COUNTERSIGN_URL and COUNTERSIGN_TOKEN");
  return { url, token };
}

export function check(ok: unknown, step: string, status: number, detail: unknown): asserts ok {
  if (!ok) {
    process.stderr.write(`${step} failed: HTTP ${status} ${JSON.stringify(detail)}\n`);
    process.exit(1);
  }
}

export function report(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
