import { afterEach, describe, expect, it } from "vitest";
import { newRequestId } from "../../src/approvals/create-request.ts";
import { sampleDraw, sampledForHumans } from "../../src/policy/sample.ts";
import { TEST_CONFIG_YAML, testConfig } from "../support/config.ts";
import { type Harness, REFUND, startHarness } from "../support/harness.ts";
import { auditEvents } from "../support/requests.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const sampledConfig = (rate: number) =>
  testConfig(TEST_CONFIG_YAML.replace("    ttl: 30m\n", `    ttl: 30m\n    sample: ${rate}\n`));

describe("sampling draw", () => {
  it.each([0.05, 0.25, 0.5, 0.9])(
    "over 10k request ids, rate %s → within 2 percentage points of the rate",
    (rate) => {
      const n = 10_000;
      let humans = 0;
      for (let i = 0; i < n; i += 1)
        if (sampledForHumans(rate, "medium-refunds", newRequestId())) humans += 1;
      expect(Math.abs(humans / n - rate)).toBeLessThan(0.02);
    },
  );

  it("is deterministic: the same seed draws the same number; draws are in [0, 1)", () => {
    const ids = Array.from({ length: 100 }, () => newRequestId());
    for (const id of ids) {
      const d = sampleDraw(id);
      expect(d).toBe(sampleDraw(id));
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1);
    }
    expect(new Set(ids.map(sampleDraw)).size).toBe(ids.length);
  });

  it("sample 0 sends nobody to humans, 1 everybody, null (no sampling) everybody", () => {
    expect(sampledForHumans(0, "p", "req_a")).toBe(false);
    expect(sampledForHumans(1, "p", "req_a")).toBe(true);
    expect(sampledForHumans(null, "p", "req_a")).toBe(true);
  });
});

describe("sampling through the API (CONTRACT §9)", () => {
  it("sample 0.5 → matches split between humans and approved_by_policy with audit sampled_out, each as the draw says", async () => {
    h = await startHarness({ config: sampledConfig(0.5) });
    const outcomes = { routed: 0, sampledOut: 0 };
    for (let i = 0; i < 30; i += 1) {
      const res = await h.create(REFUND);
      expect(res.status).toBe(201);
      const { id } = res.json as { id: string };
      const humans = sampledForHumans(0.5, "medium-refunds", id);
      if (humans) {
        outcomes.routed += 1;
        expect(res.json).toMatchObject({ status: "pending", role: "support-lead", policy: "medium-refunds" });
        expect(await auditEvents(h, id)).not.toContain("sampled_out");
      } else {
        outcomes.sampledOut += 1;
        expect(res.json).toMatchObject({ status: "approved", resolution: "approved_by_policy", role: null });
        expect(await auditEvents(h, id)).toEqual(["created", "sampled_out", "approved"]);
      }
    }
    expect(outcomes.routed).toBeGreaterThan(0);
    expect(outcomes.sampledOut).toBeGreaterThan(0);
  });

  it("with an Idempotency-Key the draw follows the key: replays agree, and a fresh database draws the same", async () => {
    const results: string[] = [];
    for (let run = 0; run < 2; run += 1) {
      h = await startHarness({ config: sampledConfig(0.5) });
      for (let i = 0; i < 10; i += 1) {
        const headers = { "idempotency-key": `order-${i}` };
        const first = await h.create(REFUND, { headers });
        const replay = await h.create(REFUND, { headers });
        expect(replay.json.status).toBe(first.json.status);
        results.push(`${run}:${i}:${first.json.status}`);
      }
      await h.stop();
      h = undefined;
    }
    const byKey = (run: number) => results.filter((r) => r.startsWith(`${run}:`)).map((r) => r.slice(2));
    expect(byKey(1)).toEqual(byKey(0));
  });

  it("sample 0 → every match approved by policy, nothing posted to Slack", async () => {
    h = await startHarness({ config: sampledConfig(0) });
    const res = await h.create(REFUND);
    expect(res.json).toMatchObject({ status: "approved", resolution: "approved_by_policy" });
    await h.settle();
    expect(h.slack.callsTo("chat.postMessage")).toHaveLength(0);
  });
});
