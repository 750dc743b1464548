import { z } from "zod";
import { isoTime, requestResourceSchema } from "../approvals/types.ts";

/** Every kind of callback countersign sends; /openapi.json lists each under `webhooks`. */
export const CALLBACK_EVENTS = ["request.decided"] as const;
export type CallbackEvent = (typeof CALLBACK_EVENTS)[number];

/** The body of a `request.decided` callback: the resource as it stands after the final decision. */
export const requestDecidedSchema = z.object({
  type: z.literal("request.decided"),
  timestamp: isoTime.describe("when the request reached its final status"),
  data: requestResourceSchema,
});
export type RequestDecided = z.infer<typeof requestDecidedSchema>;
