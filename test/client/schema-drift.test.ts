import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TOOLS } from "../../clients/typescript/src/mcp/server.ts";
import { CLIENT_SCHEMA_URL, createBodyJsonSchema } from "../../scripts/generate-client-schema.ts";

describe("the client's copy of the create-body JSON Schema", () => {
  it("equals what the service's zod schema generates now (else: npm run client:schema)", () => {
    const committed = JSON.parse(readFileSync(CLIENT_SCHEMA_URL, "utf8"));
    expect(committed, "run `npm run client:schema` and commit the result").toEqual(
      JSON.parse(createBodyJsonSchema()),
    );
  });

  it("request_approval's input schema is that schema plus wait_seconds 0–3600 (waits past one call return early)", () => {
    const generated = JSON.parse(createBodyJsonSchema());
    const tool = TOOLS.find((t) => t.name === "request_approval")!;
    expect(tool.inputSchema.required).toEqual(["action", "summary", "params"]);
    expect(tool.inputSchema.properties).toMatchObject({
      ...generated.properties,
      wait_seconds: { type: "integer", minimum: 0, maximum: 3600 },
    });
    // What a client sends, not what the service makes of it: params an object, ttl a duration string.
    expect(tool.inputSchema.properties).toMatchObject({
      params: { type: "object" },
      ttl: { type: "string" },
    });
  });
});
