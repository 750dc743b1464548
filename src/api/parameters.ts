import { z } from "zod";

/** Header and query parameters of the agent API; /openapi.json documents these same schemas. */
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII");

/** `?wait=N` of GET /v1/requests/:id. */
export const waitSchema = z.coerce.number().int().min(1).max(60);

/** A request id as the routes accept it; anything else is not found. */
export const REQUEST_ID_PATTERN = /^req_[A-Za-z0-9_-]{1,64}$/;
export const requestIdSchema = z.string().regex(REQUEST_ID_PATTERN);
