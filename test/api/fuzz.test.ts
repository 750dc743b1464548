import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTRACT_EXAMPLE } from "../support/contract-example.ts";
import { type ApiHarness, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.stop();
});

const VALID = {
  ...CONTRACT_EXAMPLE,
  // a closed local port: deliveries fail fast, with no DNS lookups from the test
  callback_url: "http://127.0.0.1:9/hooks/approvals",
} as const;

const FIELDS = [...Object.keys(VALID), "extra"];
const anyJson = fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: "binary" }));

/** Values a real agent might send: mostly valid, some refused by policy, some subtly wrong. */
const plausible: Record<string, unknown[]> = {
  action: ["refund.issue", "refund.partial", "email.send", "db.drop_table", "", "refund issue"],
  ttl: ["1s", "10m", "2h", "0m", "1.5h"],
  on_behalf_of: ["U0LEAD1", "W0ABC", "dana"],
  callback_url: ["http://127.0.0.1:9/hook", "https://127.0.0.1:9/x", "ftp://x"],
  risk: [{ tier: "high" }, { score: 0 }, { tier: "extreme" }, {}],
  evidence: [
    [],
    [{ title: "t" }],
    [{ title: "t", text: "x" }],
    [{ title: "t", url: "mailto:x@example.com" }],
  ],
};

/** A valid body with one or two fields dropped or replaced (random JSON or plausible values), params included. */
const mutatedBody = fc
  .record({
    ops: fc.array(
      fc.tuple(
        fc.constantFrom(...FIELDS),
        fc.oneof(
          fc.constant({ drop: true as const }),
          anyJson.map((v) => ({ value: v })),
          fc.nat().map((n) => ({ pick: n })),
        ),
      ),
      { maxLength: 2 },
    ),
    paramOps: fc.dictionary(
      fc.oneof(fc.constantFrom("amount", "currency", "__proto__"), fc.string()),
      anyJson,
      {
        maxKeys: 2,
      },
    ),
  })
  .map(({ ops, paramOps }) => {
    const body: Record<string, unknown> = { ...VALID, params: { ...VALID.params } };
    for (const [key, op] of ops) {
      if ("drop" in op) delete body[key];
      else if ("value" in op) body[key] = op.value;
      else {
        const pool = plausible[key];
        if (pool) body[key] = pool[op.pick % pool.length];
      }
    }
    if (body.params !== null && typeof body.params === "object" && !Array.isArray(body.params)) {
      for (const [key, value] of Object.entries(paramOps)) {
        // define, not assign: "__proto__" must become an own key as JSON.parse would make it
        Object.defineProperty(body.params, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    return JSON.stringify(body);
  });

const randomJson = fc.oneof(
  fc.json(),
  fc.anything().map((v) => JSON.stringify(v) ?? "null"),
  fc.string(), // mostly not JSON at all
);

const idempotencyKey = fc.option(fc.constantFrom("k1", "k2", "k3", "k4", "k5"), { nil: undefined });

describe("POST /v1/requests under random input (property)", () => {
  it("random JSON and mutated bodies → never 5xx; 201/200/400/409/422 only; a refusal stores nothing", async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: mutatedBody, weight: 3 }, { arbitrary: randomJson, weight: 1 }),
        idempotencyKey,
        async (raw, key) => {
          const before = await h.baseline();
          const res = await h.api("POST", "/v1/requests", undefined, {
            raw,
            headers: {
              "content-type": "application/json",
              ...(key === undefined ? {} : { "idempotency-key": key }),
            },
          });
          seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
          expect(res.status).toBeLessThan(500);
          expect([200, 201, 400, 409, 422]).toContain(res.status);
          const after = h.counts();
          if (res.status === 201) {
            expect(after.requests).toBe(before.requests + 1);
            expect(res.json.id).toMatch(/^req_/);
          } else if (res.status === 200) {
            expect(res.headers.get("idempotent-replayed")).toBe("true");
            expect(after).toEqual(before);
          } else {
            expect(after).toEqual(before);
            expect(Object.keys(res.json)).toEqual(["error"]);
            expect(typeof res.json.error.code).toBe("string");
          }
        },
      ),
      { numRuns: 200 },
    );
    // the generators must reach both sides of the gate, or the property proves little
    expect(seen.get(201) ?? 0).toBeGreaterThan(0);
    expect(seen.get(400) ?? 0).toBeGreaterThan(0);
    expect(seen.get(409) ?? 0).toBeGreaterThan(0);
  });
});
