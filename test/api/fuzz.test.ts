import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
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
          const after = await h.counts();
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

/** One raw HTTP/1.1 exchange over TCP, so methods and paths reach the server exactly as written. */
async function rawHttp(
  url: string,
  head: string,
  body = "",
): Promise<{ status: number; headers: string; body: string }> {
  const { port } = new URL(url);
  const socket = connect({ port: Number(port), host: "127.0.0.1" });
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    socket.on("connect", () => resolve());
    socket.on("error", reject);
  });
  socket.write(
    `${head}\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  await new Promise<void>((resolve) => socket.on("close", () => resolve()));
  const text = Buffer.concat(chunks).toString("utf8");
  const [headPart = "", ...rest] = text.split("\r\n\r\n");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headPart)?.[1] ?? 0);
  return { status, headers: headPart.toLowerCase(), body: rest.join("\r\n\r\n") };
}

const authHeader = `authorization: Bearer ${TOKENS.support}`;

/** A body as raw text: `\\ud800` escapes and `1e309` survive, as JSON.stringify would not let them. */
const bodyWith = (field: string, rawValue: string) => {
  const base = JSON.stringify({ ...VALID, callback_url: undefined });
  return `${base.slice(0, -1)},${field}:${rawValue}}`;
};

describe("hostile input → a 4xx in the contract's shape, never a 500, nothing stored", () => {
  it.each([
    ["1e309 in params", `{"action":"refund.issue","summary":"s","params":{"amount":1e309}}`, "params.amount"],
    [
      "-1e309 in params, nested",
      `{"action":"refund.issue","summary":"s","params":{"a":[{"b":-1e309}]}}`,
      "params.a[0].b",
    ],
    [
      "1e309 as risk.score",
      `{"action":"refund.issue","summary":"s","params":{},"risk":{"score":1e309}}`,
      "risk.score",
    ],
    [
      "a lone high surrogate in summary",
      `{"action":"refund.issue","summary":"a\\ud800b","params":{}}`,
      "summary",
    ],
    [
      "a lone low surrogate in a params value",
      `{"action":"refund.issue","summary":"s","params":{"x":"\\udc00"}}`,
      "params.x",
    ],
    [
      "a lone surrogate in a params key",
      `{"action":"refund.issue","summary":"s","params":{"k\\ud83d":1}}`,
      "params",
    ],
    [
      "a lone surrogate in an evidence title",
      bodyWith(`"run_id"`, `"r"`).replace(`"Customer message"`, `"C\\udfff"`),
      "evidence[0].title",
    ],
    [
      "a lone surrogate in a key at the top level",
      `{"action":"refund.issue","summary":"s","params":{},"\\ud800":1}`,
      "(body)",
    ],
  ])("POST with %s → 400 naming the field", async (_name, raw, path) => {
    const res = await h.refused(() =>
      h.api("POST", "/v1/requests", undefined, { raw, headers: { "content-type": "application/json" } }),
    );
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("invalid_request");
    expect(res.json.error.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it("a paired surrogate (an emoji) as \\u escapes → 201, stored and returned exactly", async () => {
    const raw = `{"action":"refund.issue","summary":"ok \\ud83d\\ude00","params":{"note":"\\ud83d\\ude00"}}`;
    const res = await h.api("POST", "/v1/requests", undefined, {
      raw,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(201);
    expect(res.json.summary).toBe("ok 😀");
    const got = await h.api("GET", `/v1/requests/${res.json.id}`);
    expect(got.json.summary).toBe("ok 😀");
    expect(got.json.params).toEqual({ note: "😀" });
  });

  it("a body that is not UTF-8 → 400 invalid_json, nothing stored", async () => {
    const before = await h.baseline();
    const body = Buffer.concat([
      Buffer.from(`{"action":"refund.issue","summary":"`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(`","params":{}}`),
    ]);
    const res = await fetch(`${h.url}/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKENS.support}`, "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
    expect(await h.counts()).toEqual(before);
  });

  it.each(["gzip", "deflate", "br", "x-custom"])(
    "Content-Encoding: %s → 415, nothing stored",
    async (encoding) => {
      const res = await h.refused(() =>
        h.api("POST", "/v1/requests", undefined, {
          raw: JSON.stringify({ ...VALID, callback_url: undefined }),
          headers: { "content-type": "application/json", "content-encoding": encoding },
        }),
      );
      expect(res.status).toBe(415);
      expect(res.json.error.code).toBe("unsupported_media_type");
      expect(res.json.error.message).toContain("Content-Encoding");
    },
  );

  it("Content-Encoding: identity → accepted as plain JSON", async () => {
    const res = await h.api("POST", "/v1/requests", undefined, {
      raw: JSON.stringify({ ...VALID, callback_url: undefined }),
      headers: { "content-type": "application/json", "content-encoding": "identity" },
    });
    expect(res.status).toBe(201);
  });

  it.each([
    ["GET", "/v1/requests/%E0%A4%A"],
    ["GET", "/v1/requests/%"],
    ["POST", "/v1/requests/%E0%A4%A/cancel"],
    ["GET", "/v1/%ZZ"],
    ["GET", "/v1/requests/req_%FF"],
  ])("%s %s (malformed percent-encoding) → 400 or 404 JSON", async (method, path) => {
    const before = await h.baseline();
    const res = await rawHttp(h.url, `${method} ${path} HTTP/1.1\r\n${authHeader}`);
    expect([400, 404]).toContain(res.status);
    expect(res.headers).toContain("application/json");
    expect(JSON.parse(res.body).error.code).toMatch(/^(invalid_request|not_found)$/);
    expect(await h.counts()).toEqual(before);
  });

  it.each([
    ["PROPFIND", "/v1/requests"],
    ["TRACE", "/v1/requests"],
    ["MKCOL", "/v1/requests/req_abc"],
    ["LOCK", "/v1/requests/req_abc/cancel"],
    ["PURGE", "/v1/requests"],
  ])("%s %s → 405 JSON naming the allowed method", async (method, path) => {
    const res = await rawHttp(h.url, `${method} ${path} HTTP/1.1\r\n${authHeader}`);
    expect(res.status).toBe(405);
    expect(res.headers).toContain("application/json");
    expect(JSON.parse(res.body).error.code).toBe("method_not_allowed");
    expect(res.headers).toMatch(/\r\nallow: /);
  });

  it.each(["get", "post", "Get"])(
    "a lowercase method (%s) → 400 JSON, not a bare parser error",
    async (method) => {
      const res = await rawHttp(h.url, `${method} /v1/requests HTTP/1.1\r\n${authHeader}`);
      expect(res.status).toBe(400);
      expect(res.headers).toContain("application/json");
      expect(JSON.parse(res.body).error.code).toBe("invalid_request");
    },
  );

  it("a client that aborts its body half-way → nothing stored, nothing logged at error level", async () => {
    const before = await h.baseline();
    const body = JSON.stringify({ ...VALID, callback_url: undefined });
    const socket = connect({ port: Number(new URL(h.url).port), host: "127.0.0.1" });
    await new Promise<void>((resolve) => socket.on("connect", () => resolve()));
    socket.write(
      `POST /v1/requests HTTP/1.1\r\nhost: x\r\n${authHeader}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 40)}`,
    );
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(await h.counts()).toEqual(before);
    const errors = h.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
  });
});

/** Strings with lone surrogates, as JSON text escapes (JSON.stringify would write them the same way). */
const hostileString = fc
  .tuple(
    fc.string({ maxLength: 5 }),
    fc.constantFrom("\\ud800", "\\udbff", "\\udc00", "\\udfff"),
    fc.string({ maxLength: 5 }),
  )
  .map(([a, s, b]) => `${JSON.stringify(a).slice(0, -1)}${s}${JSON.stringify(b).slice(1)}`);

describe("lone surrogates and huge numbers anywhere (property)", () => {
  it("a valid body with one hostile string or number spliced in anywhere → 400 invalid_request, nothing stored", async () => {
    const slots = [
      "summary",
      "target",
      "reason",
      "run_id",
      "params.k",
      "params key",
      "evidence title",
      "risk reason",
      "params number",
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...slots), hostileString, async (slot, s) => {
        const huge = "1e400";
        const risk = slot === "risk reason" ? `{"reasons":[${s}]}` : `{"tier":"low"}`;
        const params =
          slot === "params.k"
            ? `{"k":${s}}`
            : slot === "params key"
              ? `{${s}:1}`
              : slot === "params number"
                ? `{"n":${huge}}`
                : `{"amount":75}`;
        const str = (name: string) => (slot === name ? s : `"ok"`);
        const evidenceTitle = slot === "evidence title" ? s : `"t"`;
        const raw = `{"action":"refund.issue","summary":${str("summary")},"target":${str("target")},"reason":${str("reason")},"run_id":${str("run_id")},"params":${params},"risk":${risk},"evidence":[{"title":${evidenceTitle}}]}`;
        const before = await h.baseline();
        const res = await h.api("POST", "/v1/requests", undefined, {
          raw,
          headers: { "content-type": "application/json" },
        });
        expect(res.status).toBe(400);
        expect(res.json.error.code).toBe("invalid_request");
        expect(await h.counts()).toEqual(before);
      }),
      { numRuns: 60 },
    );
  });
});
