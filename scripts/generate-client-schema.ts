/**
 * Writes the JSON Schema of `POST /v1/requests` into the client package, where the MCP
 * server's `request_approval` tool uses it. `npm run client:schema` after changing
 * src/approvals/request-body.ts; test/client/schema-drift.test.ts fails until then.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { createRequestBodySchema, paramsSchema } from "../src/approvals/request-body.ts";

export const CLIENT_SCHEMA_URL = new URL(
  "../clients/typescript/src/generated/create-body.schema.json",
  import.meta.url,
);

/**
 * The schema as the file holds it: JSON Schema 2020-12 of what a client sends (zod's
 * input side, as /openapi.json has it), with params shown as the object it must be.
 */
export function createBodyJsonSchema(): string {
  const schema = z.toJSONSchema(createRequestBodySchema, {
    io: "input",
    unrepresentable: "any",
    override: (ctx) => {
      // params is checked before zod parses it (see request-body.ts); to a client it is an object.
      if (ctx.zodSchema === paramsSchema) {
        for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
        Object.assign(ctx.jsonSchema, {
          type: "object",
          description: "the action's arguments; args_hash is computed over their RFC 8785 canonical JSON",
        });
      }
    },
  });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CLIENT_SCHEMA_URL, createBodyJsonSchema());
  process.stdout.write(`wrote ${fileURLToPath(CLIENT_SCHEMA_URL)}\n`);
}
