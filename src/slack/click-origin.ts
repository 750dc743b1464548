import { z } from "zod";
import type { ClickOrigin } from "../approvals/click-origin.ts";
import { POST_METADATA_TYPE } from "./send-effect.ts";

/** The parts of a block_actions payload that say which message was clicked. */
const originSchema = z.object({
  container: z
    .object({ channel_id: z.string().optional(), message_ts: z.string().optional() })
    .partial()
    .nullish(),
  channel: z.object({ id: z.string().optional() }).nullish(),
  message: z
    .object({
      ts: z.string().optional(),
      metadata: z
        .object({
          event_type: z.string().optional(),
          event_payload: z.record(z.string(), z.unknown()).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

/** Where a button was clicked: its message's channel and ts, and the request its metadata names. */
export function clickOrigin(body: unknown): ClickOrigin {
  const parsed = originSchema.safeParse(body);
  if (!parsed.success) return { channel: null, ts: null, requestId: null };
  const { container, channel, message } = parsed.data;
  const metadata = message?.metadata;
  const named = metadata?.event_type === POST_METADATA_TYPE ? metadata.event_payload?.request_id : undefined;
  return {
    channel: container?.channel_id ?? channel?.id ?? null,
    ts: container?.message_ts ?? message?.ts ?? null,
    requestId: typeof named === "string" ? named : null,
  };
}
