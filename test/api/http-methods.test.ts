import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { type ApiHarness, expectError, startApi } from "./helpers.ts";

/**
 * RFC 9110 method semantics on every path the listener serves, /v1 and
 * outside it: HEAD wherever GET is (same status and headers, no body), OPTIONS
 * → 204 with Allow, any other method on a known path → JSON 405 with Allow,
 * an unknown path → JSON 404, whatever the method.
 */

let h: ApiHarness;
let requestId: string;
beforeAll(async () => {
  h = await startApi();
  const created = await h.create();
  expect(created.status).toBe(201);
  requestId = created.json.id;
});
afterAll(async () => {
  await h?.stop();
});

/** One request on its own connection; everything the server sent until it closed. */
async function raw(method: string, path: string, headers: Record<string, string> = {}) {
  const { port } = new URL(h.url);
  const socket = connect({ port: Number(port), host: "127.0.0.1" });
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    socket.on("connect", () => resolve());
    socket.on("error", reject);
  });
  const lines = Object.entries({ host: "127.0.0.1", connection: "close", ...headers }).map(
    ([k, v]) => `${k}: ${v}`,
  );
  socket.write(`${method} ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
  await new Promise<void>((resolve) => socket.on("close", () => resolve()));
  const text = Buffer.concat(chunks).toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const head = text.slice(0, end);
  const header = (name: string) => new RegExp(`\\r\\n${name}: ([^\\r]*)`, "i").exec(head)?.[1] ?? null;
  return { status: Number(head.slice(9, 12)), header, body: text.slice(end + 4) };
}

const auth = { authorization: `Bearer ${TOKENS.support}` };
const getPaths = () =>
  [
    ["/", {}],
    ["/healthz", {}],
    ["/metrics", {}],
    ["/openapi.json", {}],
    ["/.well-known/jwks.json", {}],
    ["/v1/requests", auth],
    [`/v1/requests/${requestId}`, auth],
    [`/v1/requests/${requestId}/events`, auth],
  ] as const;

describe("HEAD wherever GET is", () => {
  it("every GET resource: HEAD → the GET's status, type and length, and not one byte of body", async () => {
    for (const [path, headers] of getPaths()) {
      const get = await raw("GET", path, headers);
      const head = await raw("HEAD", path, headers);
      expect({ path, status: head.status }).toEqual({ path, status: 200 });
      expect(head.header("content-type")).toBe(get.header("content-type"));
      expect({ path, body: head.body }).toEqual({ path, body: "" });
      if (!path.startsWith("/metrics") && !path.endsWith("/events") && path !== "/v1/requests") {
        // Deterministic documents: HEAD announces the length GET sends.
        expect(head.header("content-length")).toBe(String(Buffer.byteLength(get.body, "latin1")));
      }
    }
  });

  it("HEAD on /v1 without a token → 401 with no body; HEAD on an unknown id → 404 with no body", async () => {
    const anon = await raw("HEAD", "/v1/requests");
    expect(anon.status).toBe(401);
    expect(anon.body).toBe("");
    const missing = await raw("HEAD", "/v1/requests/req_nope", auth);
    expect(missing.status).toBe(404);
    expect(missing.header("content-type")).toMatch(/^application\/json/);
    expect(missing.body).toBe("");
  });

  it("HEAD on an unknown path or a POST-only resource: the error status, JSON type, no body", async () => {
    for (const [path, status] of [
      ["/nope", 404],
      ["/v1/nope", 404],
      [`/v1/requests/${requestId}/cancel`, 405],
      ["/v1/tokens/consume", 405],
    ] as const) {
      const res = await raw("HEAD", path, auth);
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status, body: "" });
      expect(res.header("content-type")).toMatch(/^application\/json/);
    }
  });
});

describe("OPTIONS → 204 with Allow (no token needed)", () => {
  it.each([
    ["/", "GET, HEAD, OPTIONS"],
    ["/healthz", "GET, HEAD, OPTIONS"],
    ["/metrics", "GET, HEAD, OPTIONS"],
    ["/openapi.json", "GET, HEAD, OPTIONS"],
    ["/.well-known/jwks.json", "GET, HEAD, OPTIONS"],
    ["/slack/events", "POST, OPTIONS"],
    ["/v1/requests", "GET, HEAD, POST, OPTIONS"],
    ["/v1/requests/req_abc", "GET, HEAD, OPTIONS"],
    ["/v1/requests/req_abc/events", "GET, HEAD, OPTIONS"],
    ["/v1/requests/req_abc/cancel", "POST, OPTIONS"],
    ["/v1/requests/req_abc/outcome", "POST, OPTIONS"],
    ["/v1/requests/req_abc/token", "POST, OPTIONS"],
    ["/v1/tokens/consume", "POST, OPTIONS"],
  ])("OPTIONS %s → 204, Allow: %s, empty body", async (path, allow) => {
    const res = await raw("OPTIONS", path);
    expect(res.status).toBe(204);
    expect(res.header("allow")).toBe(allow);
    expect(res.body).toBe("");
  });

  it("OPTIONS on an unknown path → 404 JSON", async () => {
    const res = await h.api("OPTIONS", "/nope", undefined, { token: null });
    expectError(res, 404, "not_found");
  });
});

describe("every other method and path: the JSON error shape", () => {
  it.each([
    ["POST", "/healthz", "GET, HEAD, OPTIONS"],
    ["DELETE", "/metrics", "GET, HEAD, OPTIONS"],
    ["POST", "/", "GET, HEAD, OPTIONS"],
    ["PUT", "/openapi.json", "GET, HEAD, OPTIONS"],
    ["POST", "/.well-known/jwks.json", "GET, HEAD, OPTIONS"],
    ["GET", "/slack/events", "POST, OPTIONS"],
    ["DELETE", "/slack/events", "POST, OPTIONS"],
  ])("%s %s → 405 method_not_allowed, Allow: %s", async (method, path, allow) => {
    const res = await h.api(method, path, method === "GET" || method === "DELETE" ? undefined : {}, {
      token: null,
    });
    expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe(allow);
  });

  it.each([
    ["GET", "/nope"],
    ["POST", "/nope"],
    ["DELETE", "/"],
    ["GET", "/healthz/extra"],
    ["GET", "/slack"],
    ["PUT", "/.well-known/other"],
  ])("%s %s → 404 not_found JSON", async (method, path) => {
    if (method === "DELETE" && path === "/") {
      // "/" exists: a method it does not take is a 405, not a 404.
      const res = await h.api(method, path, undefined, { token: null });
      expectError(res, 405, "method_not_allowed");
      return;
    }
    const res = await h.api(method, path, method === "POST" || method === "PUT" ? {} : undefined, {
      token: null,
    });
    expectError(res, 404, "not_found");
  });

  it("an odd method outside /v1 (PROPFIND /healthz, TRACE /nope) → JSON, never a bare 404", async () => {
    const known = await raw("PROPFIND", "/healthz");
    expect(known.status).toBe(405);
    expect(known.header("allow")).toBe("GET, HEAD, OPTIONS");
    expect(JSON.parse(known.body).error.code).toBe("method_not_allowed");
    const unknown = await raw("TRACE", "/nope");
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.code).toBe("not_found");
  });
});

describe("a HEAD the parser refuses", () => {
  it("HEAD with a malformed header → 400 with the JSON type and length, but no body bytes", async () => {
    const res = await raw("HEAD", "/healthz", { "bad header": "x" });
    expect(res.status).toBe(400);
    expect(res.header("content-type")).toMatch(/^application\/json/);
    expect(res.body).toBe("");
    const get = await raw("GET", "/healthz", { "bad header": "x" });
    expect(get.status).toBe(400);
    expect(JSON.parse(get.body).error.code).toBe("invalid_request");
  });
});
