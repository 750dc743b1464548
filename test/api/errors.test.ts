import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { REFUND } from "../support/harness.ts";
import { type ApiHarness, expectError, issuePaths, rawRequest, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.stop();
});

const KiB = 1024;

const refused = <T>(call: () => Promise<T>): Promise<T> => h.refused(call);

describe("401 unauthorized", () => {
  it("POST without an Authorization header → 401 unauthorized, WWW-Authenticate set, nothing stored", async () => {
    const res = await refused(() => h.create(REFUND, { token: null }));
    expectError(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
  });

  it.each([
    ["Basic scheme", `Basic ${Buffer.from("support-bot:x").toString("base64")}`],
    ["Bearer without a token", "Bearer"],
    ["Bearer with an empty token", "Bearer "],
    ["two tokens", `Bearer ${TOKENS.support} ${TOKENS.deploy}`],
    ["token without scheme", TOKENS.support],
  ])(
    "POST with a malformed Authorization header (%s) → 401 unauthorized, nothing stored",
    async (_name, header) => {
      const res = await refused(() => h.create(REFUND, { token: null, headers: { authorization: header } }));
      expectError(res, 401, "unauthorized");
    },
  );

  it("POST with an unknown bearer token → 401 unauthorized, nothing stored", async () => {
    const res = await refused(() => h.create(REFUND, { token: "not-a-real-token-0123456789" }));
    expectError(res, 401, "unauthorized");
  });

  it("POST with a known token's prefix → 401 unauthorized (tokens compare whole)", async () => {
    const res = await refused(() => h.create(REFUND, { token: TOKENS.support.slice(0, -1) }));
    expectError(res, 401, "unauthorized");
  });

  it("GET, cancel and outcome of an existing request with a wrong token → 401, request untouched", async () => {
    const created = await h.create(REFUND);
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    for (const [method, path, body] of [
      ["GET", `/v1/requests/${id}`, undefined],
      ["POST", `/v1/requests/${id}/cancel`, {}],
      ["POST", `/v1/requests/${id}/outcome`, { status: "succeeded" }],
    ] as const) {
      const res = await refused(() => h.api(method, path, body, { token: "wrong-token-wrong-token-000" }));
      expectError(res, 401, "unauthorized");
    }
    expect((await h.service.deps.store.getRequest(id))?.status).toBe("pending");
  });

  it("an unauthenticated body is never parsed: broken JSON without a token → 401, not 400", async () => {
    const res = await refused(() =>
      h.api("POST", "/v1/requests", undefined, {
        token: null,
        raw: "{broken",
        headers: { "content-type": "application/json" },
      }),
    );
    expectError(res, 401, "unauthorized");
  });
});

describe("400 invalid_json", () => {
  it("POST with broken JSON → 400 invalid_json, nothing stored", async () => {
    const res = await refused(() =>
      h.api("POST", "/v1/requests", undefined, {
        raw: '{"action": "refund.issue", "summary": ',
        headers: { "content-type": "application/json" },
      }),
    );
    expectError(res, 400, "invalid_json");
  });

  it("POST with trailing garbage after the JSON → 400 invalid_json, nothing stored", async () => {
    const res = await refused(() =>
      h.api("POST", "/v1/requests", undefined, {
        raw: `${JSON.stringify(REFUND)} x`,
        headers: { "content-type": "application/json" },
      }),
    );
    expectError(res, 400, "invalid_json");
  });

  it("POST with an empty body (Content-Length: 0) → 400 invalid_json, nothing stored", async () => {
    const res = await refused(() =>
      rawRequest(h.url, {
        method: "POST",
        path: "/v1/requests",
        headers: {
          authorization: `Bearer ${TOKENS.support}`,
          "content-type": "application/json",
          "content-length": 0,
        },
        body: "",
      }),
    );
    expectError(res, 400, "invalid_json");
  });

  it("POST with an empty chunked body → 400 invalid_json, nothing stored", async () => {
    const res = await refused(() =>
      rawRequest(h.url, {
        method: "POST",
        path: "/v1/requests",
        headers: {
          authorization: `Bearer ${TOKENS.support}`,
          "content-type": "application/json",
          "transfer-encoding": "chunked",
        },
        chunks: [],
      }),
    );
    expectError(res, 400, "invalid_json");
  });
});

describe("400 invalid_request, issues by path", () => {
  const { action: _a, ...noAction } = REFUND;
  const { summary: _s, ...noSummary } = REFUND;
  const { params: _p, ...noParams } = REFUND;

  it.each([
    ["action missing", noAction, ["action"]],
    ["summary missing", noSummary, ["summary"]],
    ["params missing", noParams, ["params"]],
    ["params an array", { ...REFUND, params: [75, "USD"] }, ["params"]],
    ["params a string", { ...REFUND, params: "amount=75" }, ["params"]],
    ["params null", { ...REFUND, params: null }, ["params"]],
    ["params a number", { ...REFUND, params: 75 }, ["params"]],
    ["action empty", { ...REFUND, action: "" }, ["action"]],
    ["action with spaces", { ...REFUND, action: "refund issue" }, ["action"]],
    ["summary empty", { ...REFUND, summary: "" }, ["summary"]],
    ["summary not a string", { ...REFUND, summary: 42 }, ["summary"]],
    ["unknown top-level key", { ...REFUND, amount: 75 }, ["amount"]],
    ["two unknown keys", { ...REFUND, amount: 75, approver: "U0LEAD1" }, ["amount", "approver"]],
    ["on_behalf_of not a Slack user id", { ...REFUND, on_behalf_of: "dana@example.com" }, ["on_behalf_of"]],
    ["on_behalf_of a channel id", { ...REFUND, on_behalf_of: "C0SUPPORT" }, ["on_behalf_of"]],
    [
      "callback_url ftp scheme",
      { ...REFUND, callback_url: "ftp://agent.example.com/hook" },
      ["callback_url"],
    ],
    ["callback_url javascript scheme", { ...REFUND, callback_url: "javascript:alert(1)" }, ["callback_url"]],
    ["callback_url not a URL", { ...REFUND, callback_url: "agent.example.com/hook" }, ["callback_url"]],
    ["ttl words", { ...REFUND, ttl: "forever" }, ["ttl"]],
    ["ttl zero", { ...REFUND, ttl: "0m" }, ["ttl"]],
    ["ttl fractional", { ...REFUND, ttl: "1.5h" }, ["ttl"]],
    ["ttl a number", { ...REFUND, ttl: 600 }, ["ttl"]],
    ["ttl mixed units", { ...REFUND, ttl: "1h30m" }, ["ttl"]],
    [
      "evidence url file scheme",
      { ...REFUND, evidence: [{ title: "Order", url: "file:///etc/passwd" }] },
      ["evidence[0].url"],
    ],
    [
      "second evidence item url invalid",
      {
        ...REFUND,
        evidence: [
          { title: "ok", text: "fine" },
          { title: "Order", url: "not a url" },
        ],
      },
      ["evidence[1].url"],
    ],
    ["evidence item without title", { ...REFUND, evidence: [{ text: "orphan" }] }, ["evidence[0].title"]],
    [
      "evidence item unknown key",
      { ...REFUND, evidence: [{ title: "x", body: "y" }] },
      ["evidence[0]", "evidence[0].body"],
    ],
    ["evidence not a list", { ...REFUND, evidence: { title: "x" } }, ["evidence"]],
    ["risk tier unknown", { ...REFUND, risk: { tier: "extreme" } }, ["risk.tier"]],
    ["risk score over 100", { ...REFUND, risk: { tier: "low", score: 101 } }, ["risk.score"]],
    ["risk reasons not strings", { ...REFUND, risk: { reasons: [1] } }, ["risk.reasons[0]"]],
    ["summary with a control character", { ...REFUND, summary: "bell\u0007" }, ["summary"]],
    ["body is a JSON array", [REFUND], ["(body)"]],
    ["body is a JSON string", "refund.issue", ["(body)"]],
    ["body is JSON null", null, ["(body)"]],
  ])("POST with %s → 400 invalid_request naming the path, nothing stored", async (_name, body, paths) => {
    const res = await refused(() =>
      h.api("POST", "/v1/requests", undefined, {
        raw: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      }),
    );
    expect([...new Set(issuePaths(res))].sort()).toEqual([...paths].sort());
  });

  it("deploy-bot (no callback_secret) with a callback_url → 400 invalid_request at callback_url, nothing stored", async () => {
    const res = await refused(() =>
      h.create({ ...REFUND, callback_url: "https://ci.example.com/hook" }, { token: TOKENS.deploy }),
    );
    expect(issuePaths(res)).toEqual(["callback_url"]);
  });

  it("POST {} → 400 invalid_request listing action, summary and params together", async () => {
    const res = await refused(() => h.create({}));
    expect(issuePaths(res).sort()).toEqual(["action", "params", "summary"]);
  });

  it('POST with a "__proto__" key in params → 400 invalid_request at params.__proto__, nothing stored', async () => {
    // JSON.parse keeps "__proto__" as an own key; copying it into a plain object would drop it
    // silently, and args_hash would then not cover what the agent sent.
    const res = await refused(() =>
      h.api("POST", "/v1/requests", undefined, {
        raw: '{"action":"refund.issue","summary":"s","params":{"__proto__":{"amount":10},"amount":500}}',
        headers: { "content-type": "application/json" },
      }),
    );
    expect(issuePaths(res)).toEqual(["params.__proto__"]);
  });

  it("POST with params nested deeper than any real action needs → 400 invalid_request at params, nothing stored", async () => {
    // ~100k levels fit in 256 KiB; hashing them recursively would blow the stack (a 500).
    const depth = 100_000;
    const raw = `{"action":"refund.issue","summary":"s","params":{"a":${"[".repeat(depth)}${"]".repeat(depth)}}}`;
    expect(Buffer.byteLength(raw)).toBeLessThan(256 * KiB);
    const res = await refused(() =>
      h.api("POST", "/v1/requests", undefined, { raw, headers: { "content-type": "application/json" } }),
    );
    expect(issuePaths(res)).toEqual(["params"]);
  });

  /** params whose deepest object or array sits `depth` levels down, params itself being level 1. */
  const paramsOfDepth = (depth: number) => {
    let nested: unknown = ["leaf"];
    for (let i = 2; i < depth; i++) nested = { n: nested };
    return { amount: 75, nested };
  };

  it("POST with params nested 32 levels deep → 201, params returned intact", async () => {
    const params = paramsOfDepth(32);
    const res = await h.create({ ...REFUND, params });
    expect(res.status).toBe(201);
    expect(res.json.params).toEqual(params);
  });

  it("POST with params nested 33 levels deep → 400 invalid_request at params, nothing stored", async () => {
    const res = await refused(() => h.create({ ...REFUND, params: paramsOfDepth(33) }));
    expect(issuePaths(res)).toEqual(["params"]);
  });

  it("POST with an invalid Idempotency-Key header → 400 invalid_request at Idempotency-Key, nothing stored", async () => {
    const res = await refused(() => h.create(REFUND, { headers: { "idempotency-key": "has spaces in it" } }));
    expect(issuePaths(res)).toEqual(["Idempotency-Key"]);
  });
});

describe("404 not_found", () => {
  it("GET of a well-formed id that does not exist → 404 not_found", async () => {
    const res = await refused(() => h.api("GET", "/v1/requests/req_AAAAAAAAAAAAAAAAAAAAAAAA"));
    expectError(res, 404, "not_found");
  });

  it.each(["42", "req_", "REQ_abc", "req_abc$def", "req_..", `req_${"a".repeat(200)}`])(
    "GET of a malformed id %s → 404 not_found",
    async (id) => {
      const res = await refused(() => h.api("GET", `/v1/requests/${id}`));
      expectError(res, 404, "not_found");
    },
  );

  it("cancel and outcome of an unknown id → 404 not_found, nothing stored", async () => {
    const cancel = await refused(() => h.api("POST", "/v1/requests/req_missing/cancel", {}));
    expectError(cancel, 404, "not_found");
    const outcome = await refused(() =>
      h.api("POST", "/v1/requests/req_missing/outcome", { status: "succeeded" }),
    );
    expectError(outcome, 404, "not_found");
  });

  it("GET of another agent's request → 404 not_found (indistinguishable from a missing one)", async () => {
    const created = await h.create(REFUND);
    const theirs = await refused(() =>
      h.api("GET", `/v1/requests/${created.json.id}`, undefined, { token: TOKENS.deploy }),
    );
    const missing = await h.api("GET", "/v1/requests/req_AAAAAAAAAAAAAAAAAAAAAAAA", undefined, {
      token: TOKENS.deploy,
    });
    expectError(theirs, 404, "not_found");
    expectError(missing, 404, "not_found");
    expect(theirs.json.error.message.replace(created.json.id, "ID")).toBe(
      missing.json.error.message.replace("req_AAAAAAAAAAAAAAAAAAAAAAAA", "ID"),
    );
  });

  it.each([
    ["GET", "/v1"],
    ["GET", "/v1/"],
    ["POST", "/v1"],
    ["GET", "/v1/things"],
    ["POST", "/v1/approvals"],
    ["POST", "/v1/requests/req_abc/approve"],
    ["POST", "/v1/requests/req_abc/cancel/again"],
    ["GET", "/v1/requests/req_abc/outcome/x"],
  ])("%s %s (no such endpoint) → 404 not_found JSON", async (method, path) => {
    const res = await refused(() => h.api(method, path, method === "POST" ? {} : undefined));
    expectError(res, 404, "not_found");
  });
});

describe("405 method_not_allowed", () => {
  it.each([
    ["DELETE", "/v1/requests", "GET, HEAD, POST, OPTIONS"],
    ["POST", "/v1/requests/req_abc", "GET, HEAD, OPTIONS"],
    ["DELETE", "/v1/requests/req_abc", "GET, HEAD, OPTIONS"],
    ["PUT", "/v1/requests/req_abc", "GET, HEAD, OPTIONS"],
    ["GET", "/v1/requests/req_abc/cancel", "POST, OPTIONS"],
    ["PATCH", "/v1/requests/req_abc/outcome", "POST, OPTIONS"],
    ["GET", "/v1/requests/req_abc/token", "POST, OPTIONS"],
    ["PUT", "/v1/tokens/consume", "POST, OPTIONS"],
  ])("%s %s → 405 method_not_allowed with Allow: %s, nothing stored", async (method, path, allow) => {
    const res = await refused(() =>
      h.api(method, path, ["POST", "PUT", "PATCH"].includes(method) ? {} : undefined),
    );
    expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe(allow);
  });
});

describe("422 no_matching_policy", () => {
  it("POST of an action no policy matches (email.send) → 422 no_matching_policy, nothing stored", async () => {
    const res = await refused(() =>
      h.create({ action: "email.send", summary: "Send the newsletter", params: { list: "all" } }),
    );
    expectError(res, 422, "no_matching_policy");
  });

  it("422 does not use up the Idempotency-Key: the same key then works for a matching body → 201", async () => {
    const key = "key-after-422";
    const refusedRes = await refused(() =>
      h.create({ action: "email.send", summary: "s", params: {} }, { headers: { "idempotency-key": key } }),
    );
    expectError(refusedRes, 422, "no_matching_policy");
    const created = await h.create(REFUND, { headers: { "idempotency-key": key } });
    expect(created.status).toBe(201);
  });
});
