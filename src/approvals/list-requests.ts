import { z } from "zod";
import type { RequestResource } from "../domain/vocabulary.ts";
import { STATUSES, type Status } from "../domain/vocabulary.ts";
import type { Deps } from "./deps.ts";
import { toResource } from "./resource.ts";

export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;

/** Where the previous page ended: the last row's creation time and id, opaque to agents. */
const cursorSchema = z.object({ at: z.number().int().nonnegative(), id: z.string().min(1).max(100) });

export function encodeCursor(at: number, id: string): string {
  return Buffer.from(JSON.stringify({ at, id }), "utf8").toString("base64url");
}

/** null for anything that is not a cursor this server handed out. */
export function decodeCursor(text: string): { at: number; id: string } | null {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export const listStatusSchema = z.enum(STATUSES, { error: `must be one of ${STATUSES.join(", ")}` });
export const listLimitSchema = z.coerce.number().int().min(1).max(LIST_MAX_LIMIT);

/** The query of `GET /v1/requests`; unknown parameters are refused like unknown body keys. */
export const listQuerySchema = z.strictObject({
  status: listStatusSchema.optional(),
  limit: listLimitSchema.default(LIST_DEFAULT_LIMIT),
  cursor: z
    .string()
    .transform((text, ctx) => {
      const cursor = decodeCursor(text);
      if (cursor === null) ctx.addIssue({ code: "custom", message: "is not a cursor from next_cursor" });
      return cursor ?? z.NEVER;
    })
    .optional(),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export interface RequestPage {
  data: RequestResource[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

/** The agent's own requests, newest first, a page at a time. */
export async function listRequests(
  deps: Pick<Deps, "store">,
  agentId: string,
  query: { status?: Status | undefined; limit: number; cursor?: { at: number; id: string } | undefined },
): Promise<RequestPage> {
  // One row more than asked tells whether another page exists.
  const rows = await deps.store.listForAgent({
    agent: agentId,
    status: query.status ?? null,
    beforeAt: query.cursor?.at ?? Number.MAX_SAFE_INTEGER,
    beforeId: query.cursor?.id ?? "",
    limit: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: await Promise.all(page.map(async (row) => toResource(row, await deps.store.decisionsFor(row.id)))),
    next_cursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
