import type { Store } from "../../src/storage/ports.ts";
import { eventually, type Harness, REFUND } from "./harness.ts";

/** Creates a request over the API and waits until its evidence pack is posted (slack_ts stored); returns the id. */
export async function createPosted(h: Harness, body: Record<string, unknown> = REFUND): Promise<string> {
  const created = await h.create(body);
  if (created.status !== 201)
    throw new Error(`create failed: ${created.status} ${JSON.stringify(created.json)}`);
  const id = created.json.id as string;
  await eventually(async () => (await h.service.deps.store.getRequest(id))?.slackTs);
  return id;
}

/** Audit event names of a request, oldest first. */
export async function auditEvents(from: Harness | Store, id: string): Promise<string[]> {
  const store = "service" in from ? from.service.deps.store : from;
  return (await store.auditFor(id)).map((a) => a.event);
}
