/**
 * Writes the JSON Schema of `POST /v1/requests` into the client package, where the MCP
 * server's `request_approval` tool uses it. `npm run client:schema` after changing
 * src/approvals/request-body.ts; test/client/schema-drift.test.ts fails until then.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { createRequestBodySchema } from "../src/approvals/request-body.ts";

export const CLIENT_SCHEMA_URL = new URL(
  "../clients/typescript/src/generated/create-body.schema.json",
  import.meta.url,
);

/** The schema as the file holds it: JSON Schema 2020-12 of a valid body. */
export function createBodyJsonSchema(): string {
  const schema = z.toJSONSchema(createRequestBodySchema, { io: "output", unrepresentable: "any" });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CLIENT_SCHEMA_URL, createBodyJsonSchema());
  process.stdout.write(`wrote ${fileURLToPath(CLIENT_SCHEMA_URL)}\n`);
}
