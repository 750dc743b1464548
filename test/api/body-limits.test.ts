import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { REFUND } from "../support/harness.ts";
import { type ApiHarness, expectError, rawRequest, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.stop();
});

const KiB = 1024;

const refused = <T>(call: () => Promise<T>): Promise<T> => h.refused(call);

describe("413 payload_too_large", () => {
  it("POST declaring a Content-Length over 256 KiB → 413 payload_too_large before the body is sent, nothing stored", async () => {
    const res = await refused(() =>
      rawRequest(h.url, {
        method: "POST",
        path: "/v1/requests",
        headers: {
          authorization: `Bearer ${TOKENS.support}`,
          "content-type": "application/json",
          "content-length": 10 * 1024 * KiB,
        },
        headersOnly: true,
      }),
    );
    expectError(res, 413, "payload_too_large");
    expect(res.headers.connection).toBe("close");
  });

  it("POST of a real body just over 256 KiB with its Content-Length → 413 payload_too_large, nothing stored", async () => {
    const body = JSON.stringify({ ...REFUND, reason: "x".repeat(256 * KiB) });
    const res = await refused(() =>
      rawRequest(h.url, {
        method: "POST",
        path: "/v1/requests",
        headers: {
          authorization: `Bearer ${TOKENS.support}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
        body,
      }),
    );
    expectError(res, 413, "payload_too_large");
  });

  it("POST of a chunked body (no Content-Length) over 256 KiB → 413 payload_too_large, nothing stored", async () => {
    function* chunks() {
      yield Buffer.from(`{"action":"refund.issue","summary":"s","params":{"amount":75},"reason":"`);
      for (let i = 0; i < 20; i++) yield Buffer.alloc(16 * KiB, "x");
      yield Buffer.from('"}');
    }
    const res = await refused(() =>
      rawRequest(h.url, {
        method: "POST",
        path: "/v1/requests",
        headers: { authorization: `Bearer ${TOKENS.support}`, "content-type": "application/json" },
        chunks: chunks(),
      }),
    );
    expectError(res, 413, "payload_too_large");
  });

  it("a body of exactly 256 KiB is accepted → 201", async () => {
    // Text fields are capped by the schema, so the padding goes into params.
    const padded = JSON.stringify({ ...REFUND, params: { ...REFUND.params, pad: "" } });
    const pad = "y".repeat(256 * KiB - Buffer.byteLength(padded));
    const exact = JSON.stringify({ ...REFUND, params: { ...REFUND.params, pad } });
    expect(Buffer.byteLength(exact)).toBe(256 * KiB);
    const res = await h.api("POST", "/v1/requests", undefined, {
      raw: exact,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(201);
    expect(res.json.params.pad).toHaveLength(pad.length);
  });

  it("after oversized bodies the server keeps serving: healthz 200 and a new request 201", async () => {
    for (let i = 0; i < 3; i++) {
      const chunked = await rawRequest(h.url, {
        method: "POST",
        path: "/v1/requests",
        headers: { authorization: `Bearer ${TOKENS.support}`, "content-type": "application/json" },
        chunks: Array.from({ length: 40 }, () => Buffer.alloc(16 * KiB, "z")),
      });
      expect(chunked.status).toBe(413);
      const declared = await rawRequest(h.url, {
        method: "POST",
        path: "/v1/requests",
        headers: {
          authorization: `Bearer ${TOKENS.support}`,
          "content-type": "application/json",
          "content-length": 300 * KiB,
        },
        headersOnly: true,
      });
      expect(declared.status).toBe(413);
    }
    const health = await h.api("GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ ok: true });
    const before = await h.baseline();
    const created = await h.create(REFUND);
    expect(created.status).toBe(201);
    expect((await h.counts()).requests).toBe(before.requests + 1);
  });
});

describe("415 unsupported_media_type", () => {
  it("POST with Content-Type text/plain → 415 unsupported_media_type, nothing stored", async () => {
    const res = await refused(() =>
      h.api("POST", "/v1/requests", undefined, {
        raw: JSON.stringify(REFUND),
        headers: { "content-type": "text/plain" },
      }),
    );
    expectError(res, 415, "unsupported_media_type");
  });

  it("POST with a JSON body but no Content-Type → 415 unsupported_media_type, nothing stored", async () => {
    const body = JSON.stringify(REFUND);
    const res = await refused(() =>
      rawRequest(h.url, {
        method: "POST",
        path: "/v1/requests",
        headers: { authorization: `Bearer ${TOKENS.support}`, "content-length": Buffer.byteLength(body) },
        body,
      }),
    );
    expectError(res, 415, "unsupported_media_type");
  });

  it("POST with a form-encoded body → 415 unsupported_media_type, nothing stored", async () => {
    const res = await refused(() =>
      h.api("POST", "/v1/requests", undefined, {
        raw: "action=refund.issue&summary=x",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
    );
    expectError(res, 415, "unsupported_media_type");
  });

  it("POST with Content-Type application/json; charset=utf-8 → 201 (parameters are fine)", async () => {
    const res = await h.api("POST", "/v1/requests", undefined, {
      raw: JSON.stringify(REFUND),
      headers: { "content-type": "Application/JSON; charset=utf-8" },
    });
    expect(res.status).toBe(201);
  });
});
