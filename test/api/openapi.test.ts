import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { useCleanups } from "../support/cleanups.ts";
import { type ApiResult, type Harness, REFUND, startHarness } from "../support/harness.ts";

const cleanups = useCleanups();
// ajv-formats is CommonJS: its function is the module itself or its default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => void;

const DOC_ID = "https://countersign.test/openapi.json";

async function harness(): Promise<Harness> {
  const h = await startHarness();
  cleanups.push(() => h.stop());
  return h;
}

// biome-ignore lint/suspicious/noExplicitAny: the document is checked by the validator, then walked as JSON
type Doc = any;

/** Checks real answers against the schema the document gives for path, method and status. */
function conformance(doc: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const pointer = (path: string) => path.replaceAll("~", "~0").replaceAll("/", "~1");
  return (path: string, method: string, res: ApiResult): string[] => {
    const status = String(res.status);
    const entry = doc.paths[path]?.[method]?.responses?.[status];
    if (!entry) return [`${method.toUpperCase()} ${path} → ${status} is not in the document`];
    const schemaRef = `${DOC_ID}#/paths/${pointer(path)}/${method}/responses/${status}/content/application~1json/schema`;
    const validate = ajv.getSchema(schemaRef);
    if (!validate) return [`no schema at ${schemaRef}`];
    return validate(res.json) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

describe("GET /openapi.json", () => {
  let doc: Doc;
  beforeAll(async () => {
    const started = await startHarness();
    try {
      const res = await started.api("GET", "/openapi.json", undefined, { token: null });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      doc = res.json;
    } finally {
      await started.stop();
    }
  });

  it("is a valid OpenAPI 3.1 document (checked by @seriousme/openapi-schema-validator)", async () => {
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
    // The validator does refuse a broken document.
    const { info: _info, ...broken } = structuredClone(doc);
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it("describes every /v1 endpoint with its body, the bearer scheme, Idempotency-Key and the error shape", () => {
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/",
      "/.well-known/jwks.json",
      "/healthz",
      "/metrics",
      "/openapi.json",
      "/v1/requests",
      "/v1/requests/{id}",
      "/v1/requests/{id}/cancel",
      "/v1/requests/{id}/events",
      "/v1/requests/{id}/outcome",
      "/v1/requests/{id}/token",
      "/v1/tokens/consume",
    ]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/.well-known/jwks.json"].get.security).toEqual([]);
    const create = doc.paths["/v1/requests"].post;
    expect(create.parameters).toContainEqual(
      expect.objectContaining({ name: "Idempotency-Key", in: "header" }),
    );
    expect(create.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/CreateRequestBody",
    });
    expect(Object.keys(create.responses).sort()).toEqual([
      "200",
      "201",
      "400",
      "401",
      "405",
      "409",
      "413",
      "415",
      "422",
      "500",
      "503",
    ]);
    expect(doc.components.schemas.CreateRequestBody.required).toEqual(["action", "summary", "params"]);
    expect(doc.components.schemas.RequestResource.required).toContain("approval_token");
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toContain(
      "no_matching_policy",
    );
  });

  it("real answers conform: 201, 200 replay, approved with token, long-poll, cancel, outcome, JWKS", async () => {
    const h = await harness();
    const check = conformance(doc);
    const key = { headers: { "idempotency-key": "step-1" } };
    const answers: [string, string, ApiResult][] = [];
    const created = await h.create({ ...REFUND, run_id: "run_1", on_behalf_of: "U0REQ" }, key);
    answers.push(["/v1/requests", "post", created]);
    answers.push([
      "/v1/requests",
      "post",
      await h.create({ ...REFUND, run_id: "run_1", on_behalf_of: "U0REQ" }, key),
    ]);
    const approved = await h.create({ ...REFUND, params: { amount: 10 } });
    expect(approved.json.approval_token).toEqual(expect.any(String));
    answers.push(["/v1/requests", "post", approved]);
    const bare = await h.create({ action: "refund.issue", summary: "s", params: { amount: 100 } });
    answers.push(["/v1/requests", "post", bare]);
    answers.push(["/v1/requests/{id}", "get", await h.api("GET", `/v1/requests/${created.json.id}`)]);
    answers.push(["/v1/requests/{id}", "get", await h.api("GET", `/v1/requests/${approved.json.id}?wait=1`)]);
    answers.push([
      "/v1/requests/{id}/cancel",
      "post",
      await h.api("POST", `/v1/requests/${created.json.id}/cancel`, { reason: "not needed" }),
    ]);
    const outcome = await h.api("POST", `/v1/requests/${approved.json.id}/outcome`, {
      status: "succeeded",
      detail: "refunded",
    });
    answers.push(["/v1/requests/{id}/outcome", "post", outcome]);
    answers.push([
      "/.well-known/jwks.json",
      "get",
      await h.api("GET", "/.well-known/jwks.json", undefined, { token: null }),
    ]);
    answers.push(["/v1/requests", "get", await h.api("GET", "/v1/requests?limit=2")]);
    expect(answers.map(([, , r]) => r.status)).toEqual([201, 200, 201, 201, 200, 200, 200, 200, 200, 200]);
    for (const [path, method, res] of answers)
      expect(check(path, method, res), `${method} ${path}`).toEqual([]);
  });

  it("real refusals conform: 400, 401, 404, 409, 413, 415, 422 with the error shape", async () => {
    const h = await harness();
    const check = conformance(doc);
    const approved = await h.create({ ...REFUND, params: { amount: 10 } });
    await h.create(REFUND, { headers: { "idempotency-key": "k" } });
    const answers: [string, string, ApiResult][] = [
      ["/v1/requests", "post", await h.create({ ...REFUND, summary: undefined, extra: 1 })],
      [
        "/v1/requests",
        "post",
        await h.api("POST", "/v1/requests", undefined, {
          raw: "{",
          headers: { "content-type": "application/json" },
        }),
      ],
      ["/v1/requests", "post", await h.create(REFUND, { token: "wrong-token-0123456789" })],
      [
        "/v1/requests",
        "post",
        await h.create({ ...REFUND, summary: "other" }, { headers: { "idempotency-key": "k" } }),
      ],
      ["/v1/requests", "post", await h.create({ ...REFUND, params: { blob: "x".repeat(300 * 1024) } })],
      [
        "/v1/requests",
        "post",
        await h.api("POST", "/v1/requests", undefined, {
          raw: "{}",
          headers: { "content-type": "text/plain" },
        }),
      ],
      ["/v1/requests", "post", await h.create({ ...REFUND, action: "unknown.action" })],
      ["/v1/requests/{id}", "get", await h.api("GET", "/v1/requests/req_missing")],
      ["/v1/requests/{id}", "get", await h.api("GET", `/v1/requests/${approved.json.id}?wait=99`)],
      ["/v1/requests/{id}/cancel", "post", await h.api("POST", `/v1/requests/${approved.json.id}/cancel`)],
      [
        "/v1/requests/{id}/outcome",
        "post",
        await h.api("POST", `/v1/requests/${approved.json.id}/outcome`, { status: "maybe" }),
      ],
    ];
    expect(answers.map(([, , r]) => r.status)).toEqual([
      400, 400, 401, 409, 413, 415, 422, 404, 400, 409, 400,
    ]);
    for (const [path, method, res] of answers)
      expect(check(path, method, res), `${method} ${path} ${res.status}`).toEqual([]);
  });

  it("the response schemas are strict enough to catch a drifted answer", async () => {
    const h = await harness();
    const check = conformance(doc);
    const created = await h.create(REFUND);
    const drifted = (json: unknown): ApiResult => ({ ...created, json });
    expect(check("/v1/requests", "post", drifted({ ...created.json, surprise: true }))).not.toEqual([]);
    expect(check("/v1/requests", "post", drifted({ ...created.json, status: "maybe" }))).not.toEqual([]);
    const { approval_token: _omitted, ...withoutToken } = created.json;
    expect(check("/v1/requests", "post", drifted(withoutToken))).not.toEqual([]);
    expect(check("/v1/requests", "post", drifted({ error: { code: "nope", message: "x" } }))).not.toEqual([]);
  });
});
