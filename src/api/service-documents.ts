import { z } from "zod";

/** GET /healthz: the database answers and can take writes. */
export const healthOkSchema = z.object({ ok: z.literal(true) }).strict();
/** GET /healthz when it cannot (503, Retry-After). */
export const healthFailingSchema = z
  .object({
    ok: z.literal(false),
    error: z.object({ code: z.literal("unavailable"), message: z.string() }).strict(),
  })
  .strict();

/** GET /: what this is and where to read more. */
export const serviceIndexSchema = z
  .object({
    service: z.literal("countersign"),
    description: z.string(),
    docs: z.string(),
    endpoints: z.record(z.string(), z.string()),
  })
  .strict();
export type ServiceIndex = z.infer<typeof serviceIndexSchema>;
