import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useCleanups } from "../support/cleanups.ts";
import { type ApiResult, type Harness, REFUND, startHarness } from "../support/harness.ts";
import { createPosted } from "../support/requests.ts";

/**
 * /openapi.json names every route, status and header the service really
 * sends: each real answer below must be documented (status, headers, body
 * schema), the webhook a receiver gets must match `webhooks`, and the text
 * cites no document that does not ship.
 */
const cleanups = useCleanups();
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => void;
const DOC_ID = "https://countersign.test/openapi.json";
const SMALL = { ...REFUND, params: { amount: 20, currency: "USD", order_id: "48213" } };

// biome-ignore lint/suspicious/noExplicitAny: the document is walked as JSON
type Doc = any;
let doc: Doc;
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  doc = (await h.api("GET", "/openapi.json", undefined, { token: null })).json;
});
afterAll(async () => {
  await h?.stop();
});

const pointer = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
function validator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
  return (ref: string, value: unknown): string[] => {
    const validate = ajv.getSchema(`${DOC_ID}#${ref}`);
    if (!validate) return [`no schema at ${ref}`];
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

/** Problems with `res` as the answer to `method path`: undocumented status or header, body off its schema. */
function documented(path: string, method: string, res: ApiResult): string[] {
  const entry = doc.paths[path]?.[method]?.responses?.[String(res.status)];
  if (!entry) return [`${method.toUpperCase()} ${path} → ${res.status} is not documented`];
  const problems: string[] = [];
  for (const name of ["retry-after", "allow", "location", "www-authenticate", "idempotent-replayed"]) {
    if (res.headers.get(name) === null) continue;
    const listed = Object.keys(entry.headers ?? {}).map((k) => k.toLowerCase());
    if (!listed.includes(name))
      problems.push(`${method} ${path} ${res.status}: header ${name} not documented`);
  }
  const type = (res.headers.get("content-type") ?? "").split(";")[0] ?? "";
  if (method === "head" || res.status === 204) {
    if (entry.content !== undefined) problems.push(`${method} ${path} ${res.status}: documents a body`);
    return problems;
  }
  if (!entry.content?.[type]) return [...problems, `${method} ${path} ${res.status}: ${type} not documented`];
  if (type === "application/json") {
    const at = `/paths/${pointer(path)}/${method}/responses/${res.status}/content/application~1json/schema`;
    problems.push(...validator()(at, res.json));
  }
  return problems;
}

describe("/openapi.json covers what the service sends", () => {
  it("every route with its real answers: events, token re-issue and consume, health, metrics, index, HEAD, OPTIONS, 405", async () => {
    const approved = await h.create(SMALL);
    const id = approved.json.id as string;
    const token = approved.json.approval_token as string;
    const jti = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()).jti;
    const pending = await createPosted(h, REFUND);
    const answers: [string, string, ApiResult][] = [
      ["/v1/requests/{id}/events", "get", await h.api("GET", `/v1/requests/${id}/events`)],
      ["/v1/requests/{id}/events", "get", await h.api("GET", "/v1/requests/req_nope/events")],
      ["/v1/requests/{id}/events", "head", await h.api("HEAD", `/v1/requests/${id}/events`)],
      ["/v1/requests/{id}/token", "post", await h.api("POST", `/v1/requests/${id}/token`)],
      ["/v1/requests/{id}/token", "post", await h.api("POST", `/v1/requests/${pending}/token`)],
      ["/v1/tokens/consume", "post", await h.api("POST", "/v1/tokens/consume", { jti: "a-jti" })],
      ["/v1/tokens/consume", "post", await h.api("POST", "/v1/tokens/consume", { jti: "a-jti" })],
      ["/v1/tokens/consume", "post", await h.api("POST", "/v1/tokens/consume", { jti })],
      ["/v1/tokens/consume", "post", await h.api("POST", "/v1/tokens/consume", {})],
      ["/v1/tokens/consume", "post", await h.api("POST", "/v1/tokens/consume", { jti }, { token: null })],
      ["/v1/requests/{id}", "head", await h.api("HEAD", `/v1/requests/${id}`)],
      ["/v1/requests/{id}", "get", await h.api("DELETE", `/v1/requests/${id}`)],
      ["/v1/requests", "options", await h.api("OPTIONS", "/v1/requests", undefined, { token: null })],
      ["/healthz", "get", await h.api("GET", "/healthz", undefined, { token: null })],
      ["/healthz", "head", await h.api("HEAD", "/healthz", undefined, { token: null })],
      ["/healthz", "get", await h.api("POST", "/healthz", {}, { token: null })],
      ["/metrics", "get", await h.api("GET", "/metrics", undefined, { token: null })],
      ["/", "get", await h.api("GET", "/", undefined, { token: null })],
      ["/openapi.json", "get", await h.api("GET", "/openapi.json", undefined, { token: null })],
      ["/.well-known/jwks.json", "options", await h.api("OPTIONS", "/.well-known/jwks.json")],
    ];
    expect(answers.map(([, , r]) => r.status)).toEqual([
      200, 404, 200, 200, 409, 200, 409, 409, 400, 401, 200, 405, 204, 200, 200, 405, 200, 200, 200, 204,
    ]);
    for (const [path, method, res] of answers) expect(documented(path, method, res)).toEqual([]);
  });

  it("every /v1 operation documents 503 with Retry-After, 401 with WWW-Authenticate, 405 with Allow; every path OPTIONS 204 with Allow", () => {
    for (const [path, item] of Object.entries(doc.paths) as [string, Doc][]) {
      expect(item.options?.responses?.["204"]?.headers?.Allow, `OPTIONS ${path}`).toBeDefined();
      for (const method of ["get", "head", "post"]) {
        const op = item[method];
        if (!op) continue;
        expect(op.responses["405"]?.headers?.Allow, `${method} ${path} 405`).toBeDefined();
        if (!path.startsWith("/v1/")) continue;
        expect(op.responses["503"]?.headers?.["Retry-After"], `${method} ${path} 503`).toBeDefined();
        expect(op.responses["401"]?.headers?.["WWW-Authenticate"], `${method} ${path} 401`).toBeDefined();
      }
      if (item.get) expect(item.head, `HEAD ${path}`).toBeDefined();
    }
  });

  it("a real request.decided callback matches `webhooks` (body schema and the three Standard Webhooks headers)", async () => {
    const hook = await cleanups.receiver();
    await h.create({ ...SMALL, callback_url: hook.url });
    const [delivery] = await hook.waitForDeliveries(1);
    const webhook = doc.webhooks["request.decided"].post;
    const ref = webhook.requestBody.content["application/json"].schema.$ref.slice(1);
    expect(validator()(ref, JSON.parse(delivery?.body ?? "null"))).toEqual([]);
    for (const p of webhook.parameters) expect(delivery?.headers[p.name], p.name).toEqual(expect.any(String));
    // The schema is strict enough to refuse a drifted body.
    expect(validator()(ref, { type: "request.decided", data: {} })).not.toEqual([]);
  });

  it("cites no document that does not ship; every *_at, at and timestamp property is format: date-time", () => {
    const text = JSON.stringify(doc);
    expect(text).not.toMatch(/CONTRACT|§/);
    const misses: string[] = [];
    const walk = (node: unknown, where: string) => {
      if (Array.isArray(node)) node.forEach((n, i) => void walk(n, `${where}/${i}`));
      else if (node !== null && typeof node === "object") {
        const properties = (node as { properties?: Record<string, Doc> }).properties;
        for (const [name, schema] of Object.entries(properties ?? {})) {
          if (!/(^|_)at$|^timestamp$/.test(name)) continue;
          const variants = [schema, ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
          if (!variants.some((v: Doc) => v.format === "date-time")) misses.push(`${where}/${name}`);
        }
        for (const [k, v] of Object.entries(node)) walk(v, `${where}/${k}`);
      }
    };
    walk(doc.components.schemas, "#/components/schemas");
    expect(misses).toEqual([]);
    expect(doc.components.schemas.RequestResource.properties.outcome.anyOf[0].properties.at.format).toBe(
      "date-time",
    );
  });

  it("a create body's params is an object of any values (additionalProperties: {}), so generators type it as a record", () => {
    expect(doc.components.schemas.CreateRequestBody.properties.params).toMatchObject({
      type: "object",
      additionalProperties: {},
    });
  });
});
