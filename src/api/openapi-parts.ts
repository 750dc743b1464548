import { z } from "zod";
import { paramsSchema } from "../approvals/request-body.ts";
import { type ApiErrorCode, statusOf } from "./errors.ts";
import { allowOf, type Implemented } from "./methods.ts";

/** Building blocks of /openapi.json (see openapi.ts): JSON Schema from zod, responses, headers. */

export type JsonSchema = Record<string, unknown>;
export type Operation = Record<string, unknown>;

export const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
export const json = (schema: JsonSchema) => ({ "application/json": { schema } });

/** What a client sends as params: any JSON object (`additionalProperties: {}` so generators type it as a record of unknown values). */
const PARAMS_INPUT: JsonSchema = {
  type: "object",
  additionalProperties: {},
  description: "the tool call's arguments; args_hash is computed over their RFC 8785 canonical JSON",
};

/** Components from a registry; `io` says which side of the schemas (bodies are input, answers output). */
export function components(
  entries: [z.ZodType, string][],
  io: "input" | "output",
): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of entries) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io,
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
    override: (ctx) => {
      // params is checked before zod parses it (see request-body.ts); to a client it is an object.
      if (ctx.zodSchema === paramsSchema) {
        for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
        Object.assign(ctx.jsonSchema, PARAMS_INPUT);
      }
    },
  });
  // Each entry comes out as a standalone document; as a component it needs neither of these.
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return schemas as Record<string, JsonSchema>;
}

/** A parameter schema as JSON Schema (the zod input side: what a client sends). */
export const parameterSchema = (schema: z.ZodType): JsonSchema => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
};

/** Response headers, each defined once under components.headers. */
export const HEADERS = {
  "Retry-After": {
    description: "seconds to wait before trying the same call again",
    schema: { type: "integer", minimum: 1 },
  },
  Allow: {
    description: "the methods this path answers",
    schema: { type: "string" },
  },
  "WWW-Authenticate": {
    description: 'Bearer realm="countersign"',
    schema: { type: "string" },
  },
  "Cache-Control": {
    description: "how long the answer may be cached",
    schema: { type: "string" },
  },
} as const;
const header = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

/** Error responses grouped by status, each naming the codes it can carry and the headers it sets. */
export function errorResponses(codes: readonly ApiErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of codes) {
    const status = statusOf(code);
    byStatus.set(status, [...new Set([...(byStatus.get(status) ?? []), code])]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => {
      const headers =
        status === 503
          ? { "Retry-After": header("Retry-After") }
          : status === 401
            ? { "WWW-Authenticate": header("WWW-Authenticate") }
            : status === 405
              ? { Allow: header("Allow") }
              : undefined;
      const why: Record<number, string> = {
        400: " (also: a path that is not valid percent-encoding)",
        405: " (another method on this path: Allow names the ones it takes)",
        503: " (nothing was stored; the same call may succeed after Retry-After)",
      };
      return [
        String(status),
        {
          description: `error code: ${list.join(", ")}${why[status] ?? ""}`,
          ...(headers ? { headers } : {}),
          content: json(ref("Error")),
        },
      ];
    }),
  );
}

/** What every operation may answer besides its own outcomes. */
export const ALWAYS: readonly ApiErrorCode[] = ["invalid_request", "method_not_allowed", "internal_error"];
/** …and every /v1 operation (authenticated, backed by the database). */
export const ALWAYS_V1: readonly ApiErrorCode[] = [...ALWAYS, "unauthorized", "unavailable"];

/** OPTIONS on a path: 204 with Allow (no auth). */
export function optionsOperation(id: string, methods: Implemented): Operation {
  return {
    operationId: `options${id}`,
    summary: `The methods this path answers (${allowOf(methods)})`,
    description: "CORS-style discovery; no token needed.",
    tags: ["service"],
    security: [],
    responses: {
      "204": { description: "No content; Allow lists the methods", headers: { Allow: header("Allow") } },
      ...errorResponses(["invalid_request"]),
    },
  };
}

/** HEAD on a GET operation: the same parameters, statuses and headers, never a body. */
export function headOf(get: Operation, id: string): Operation {
  const responses = get.responses as Record<string, Record<string, unknown>>;
  return {
    ...get,
    operationId: `head${id}`,
    summary: `HEAD of ${String(get.operationId)}: its status and headers, no body`,
    description: "Answers exactly as the GET would, without the body.",
    responses: Object.fromEntries(
      Object.entries(responses).map(([status, { content: _body, ...rest }]) => [status, rest]),
    ),
  };
}

export { header };
