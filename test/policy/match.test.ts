import { describe, expect, it } from "vitest";
import { compileMatcher, findPolicy, type MatchInput, matcherSchema } from "../../src/policy/match.ts";

const request = (over: Partial<MatchInput> & Record<string, unknown> = {}): MatchInput => ({
  action: "refund.issue",
  agent: "support-bot",
  summary: "Refund $75",
  target: "order #48213",
  params: { amount: 75, currency: "USD", customer: { country: "DE", vip: true, note: null } },
  risk: { tier: "medium", score: 62 },
  evidence: [{ title: "Order" }],
  ...over,
});

const matches = (spec: unknown, input: MatchInput = request()) => compileMatcher(spec).test(input);

describe("action globs", () => {
  it.each([
    ["refund.*", "refund.issue", true],
    ["refund.*", "refund.issue.partial", true],
    ["refund.*", "refund.", true],
    ["refund.*", "refund", false],
    ["refund.*", "refunds.issue", false],
    ["refund.*", "xrefund.issue", false],
    ["refund.issue", "refund.issue", true],
    ["refund.issue", "refundxissue", false],
    ["refund.issue", "refund.issue2", false],
    ["*", "anything.at.all", true],
    ["*.delete", "db.users.delete", true],
    ["*.delete", "db.users.delete.later", false],
    ["deploy.*.prod", "deploy.api.prod", true],
    ["deploy.*.prod", "deploy.api.staging", false],
    ["a+b(c)", "a+b(c)", true],
    ["a+b(c)", "aab(c)", false],
    ["db.[x]", "db.[x]", true],
  ])("%s vs %s → %s", (glob, action, expected) => {
    expect(matches({ action: glob }, request({ action }))).toBe(expected);
  });

  it("accepts a list of globs, any of which may match", () => {
    const spec = { action: ["refund.*", "payout.send"] };
    expect(matches(spec, request({ action: "payout.send" }))).toBe(true);
    expect(matches(spec, request({ action: "refund.void" }))).toBe(true);
    expect(matches(spec, request({ action: "payout.sendall" }))).toBe(false);
  });
});

describe("agent and risk", () => {
  it.each([
    [{ agent: "support-bot" }, true],
    [{ agent: "deploy-bot" }, false],
    [{ agent: ["deploy-bot", "support-bot"] }, true],
    [{ agent: "support-*" }, false], // agent ids are exact, not globs
    [{ risk: "medium" }, true],
    [{ risk: "high" }, false],
    [{ risk: ["high", "critical"] }, false],
    [{ risk: ["medium", "high"] }, true],
  ])("%j → %s", (spec, expected) => {
    expect(matches(spec)).toBe(expected);
  });

  it("never matches a risk rule when the request has no risk tier", () => {
    expect(matches({ risk: "low" }, request({ risk: null }))).toBe(false);
    expect(matches({ risk: "low" }, request({ risk: { score: 5 } }))).toBe(false);
    expect(matches({ risk: "low" }, request({ risk: undefined }))).toBe(false);
  });
});

describe("dotted paths and operators", () => {
  it.each([
    [{ "params.amount": { lt: 76 } }, true],
    [{ "params.amount": { lt: 75 } }, false],
    [{ "params.amount": { lte: 75 } }, true],
    [{ "params.amount": { lte: 74.99 } }, false],
    [{ "params.amount": { gt: 74.99 } }, true],
    [{ "params.amount": { gt: 75 } }, false],
    [{ "params.amount": { gte: 75 } }, true],
    [{ "params.amount": { gte: 75.01 } }, false],
    [{ "params.amount": { gt: 50, lt: 100 } }, true],
    [{ "params.amount": { gt: 80, lt: 100 } }, false],
    [{ "params.amount": { eq: 75 } }, true],
    [{ "params.amount": { eq: "75" } }, false],
    [{ "params.amount": 75 }, true],
    [{ "params.amount": "75" }, false],
    [{ "params.currency": "USD" }, true],
    [{ "params.currency": "usd" }, false],
    [{ "params.currency": { in: ["EUR", "USD"] } }, true],
    [{ "params.currency": { in: ["EUR", "GBP"] } }, false],
    [{ "params.currency": { in: ["USD"], eq: "EUR" } }, false],
    [{ "params.customer.country": "DE" }, true],
    [{ "params.customer.country": { in: ["FR", "IT"] } }, false],
    [{ "params.customer.vip": true }, true],
    [{ "params.customer.vip": false }, false],
    [{ "params.customer.note": null }, true],
    [{ "risk.score": { gte: 60 } }, true],
    [{ "risk.score": { gte: 63 } }, false],
    [{ target: "order #48213" }, true],
    [{ "evidence.0.title": "Order" }, true],
    [{ "evidence.length": 1 }, false],
    [{ "params.currency": { lt: 100 } }, false],
  ])("%j → %s", (spec, expected) => {
    expect(matches(spec)).toBe(expected);
  });

  it("never compares a string numerically", () => {
    const input = request({ params: { amount: "75" } });
    for (const op of ["lt", "lte", "gt", "gte"])
      expect(matches({ "params.amount": { [op]: 75 } }, input)).toBe(false);
    expect(matches({ "params.amount": { lt: 100 } }, input)).toBe(false);
    expect(matches({ "params.amount": "75" }, input)).toBe(true);
  });

  it("never matches a path that is not there, whatever the operator", () => {
    expect(matches({ "params.missing": { lt: 100 } })).toBe(false);
    expect(matches({ "params.missing": { eq: null } })).toBe(false);
    expect(matches({ "params.missing": null })).toBe(false);
    expect(matches({ "params.amount.value": { gt: 0 } })).toBe(false);
    expect(matches({ "reason.text": "x" }, request({ reason: undefined }))).toBe(false);
    expect(matches({ "params.constructor": { in: ["x"] } })).toBe(false);
  });

  it("ANDs every key, and {} matches everything", () => {
    const spec = { action: "refund.*", agent: "support-bot", risk: "medium", "params.amount": { lt: 100 } };
    expect(matches(spec)).toBe(true);
    expect(matches(spec, request({ agent: "other-bot" }))).toBe(false);
    expect(matches(spec, request({ params: { amount: 150 } }))).toBe(false);
    expect(matches({})).toBe(true);
    expect(matches({}, { action: "x", agent: "y" })).toBe(true);
  });
});

describe("findPolicy", () => {
  const policies = [
    { name: "small-refunds", match: compileMatcher({ action: "refund.*", "params.amount": { lt: 50 } }) },
    { name: "medium-refunds", match: compileMatcher({ action: "refund.*", "params.amount": { lte: 200 } }) },
    { name: "large-refunds", match: compileMatcher({ action: "refund.*" }) },
    { name: "risky-deploys", match: compileMatcher({ action: "deploy.*", risk: ["high", "critical"] }) },
    { name: "bot-only", match: compileMatcher({ agent: "deploy-bot", "params.env": "staging" }) },
  ];
  const refund = (amount: unknown) => request({ params: { amount } });

  it.each([
    [refund(49.99), "small-refunds"],
    [refund(50), "medium-refunds"],
    [refund(200), "medium-refunds"],
    [refund(200.01), "large-refunds"],
    [refund("20"), "large-refunds"],
    [request({ params: {} }), "large-refunds"],
    [request({ action: "deploy.api", risk: { tier: "critical" } }), "risky-deploys"],
    [
      request({
        action: "deploy.api",
        agent: "deploy-bot",
        risk: { tier: "low" },
        params: { env: "staging" },
      }),
      "bot-only",
    ],
  ])("first match wins: %j → %s", (input, name) => {
    expect(findPolicy(policies, input)?.name).toBe(name);
  });

  it("returns null when nothing matches", () => {
    expect(findPolicy(policies, request({ action: "refund" }))).toBeNull();
    expect(findPolicy(policies, request({ action: "deploy.api", risk: { tier: "low" } }))).toBeNull();
    expect(findPolicy([], request())).toBeNull();
  });
});

describe("matcherSchema", () => {
  const issuesOf = (spec: unknown) => {
    const result = matcherSchema.safeParse(spec);
    return result.success ? [] : result.error.issues.map((i) => [i.path.join("/"), i.message]);
  };

  it("reports each malformed key at its path", () => {
    expect(
      issuesOf({
        action: 5,
        agent: [],
        risk: ["medium", "extreme"],
        "params.amount": { lessthan: 5 },
        "params.total": { lt: "100" },
        "params.currency": { in: "USD" },
        "params.code": ["A", "B"],
        "params..x": 1,
        "params.y": {},
      }),
    ).toEqual([
      ["action", "must be a string"],
      ["agent", "must list at least one value"],
      ["risk/1", 'unknown risk tier "extreme"; use low, medium, high, critical'],
      ["params.amount", 'unknown operator "lessthan"; use eq, in, lt, lte, gt, gte'],
      ["params.total/lt", 'lt compares numbers; got "100"'],
      ["params.currency/in", "in takes a list of values"],
      ["params.code", "a list is not a value; use { in: [...] } to match any of several"],
      ["params..x", "is not a dotted path like params.amount (empty segment)"],
      ["params.y", "needs at least one of eq, in, lt, lte, gt, gte"],
    ]);
  });

  it("rejects a match that is not a mapping, and compileMatcher throws on it", () => {
    expect(issuesOf("refund.*")).toEqual([
      ["", 'must be a mapping such as { action: "refund.*" } (use {} to match everything)'],
    ]);
    expect(() => compileMatcher({ "params.amount": { lessthan: 5 } })).toThrow(/unknown operator/);
  });

  it("keeps the spec as written", () => {
    const spec = { action: "refund.*", "params.amount": { lt: 50 } };
    expect(compileMatcher(spec).spec).toEqual(spec);
  });
});
