import { z } from "zod";
import { REFUSAL_REASONS } from "../domain/transitions.ts";

const ephemeralMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("refused"), reason: z.enum(REFUSAL_REASONS) }),
  z.object({ type: z.literal("already_final") }),
]);

/**
 * The Slack side effects a verb can queue. Payloads carry only what cannot be
 * read back from the request row; the outbox worker renders the message from
 * the request's state when it sends, so a delayed post is never stale.
 */
export const slackEffectSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("post") }),
  z.object({ kind: z.literal("update") }),
  z.object({ kind: z.literal("escalation_dm"), manager: z.string() }),
  z.object({ kind: z.literal("escalation_notice"), manager: z.string() }),
  z.object({ kind: z.literal("reminder") }),
  z.object({
    kind: z.literal("ephemeral"),
    channel: z.string(),
    user: z.string(),
    message: ephemeralMessageSchema,
  }),
]);

export type SlackEffect = z.infer<typeof slackEffectSchema>;
export type EphemeralMessage = z.infer<typeof ephemeralMessageSchema>;
