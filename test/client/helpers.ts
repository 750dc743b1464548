import { CountersignClient, type CreateRequestBody } from "../../clients/typescript/src/index.ts";
import type { useCleanups } from "../support/cleanups.ts";
import { TOKENS } from "../support/config.ts";
import {
  eventually,
  REFUND as HARNESS_REFUND,
  type Harness,
  type HarnessOptions,
  startHarness,
} from "../support/harness.ts";

type Cleanups = ReturnType<typeof useCleanups>;

/** A real service (fake Slack, fake clock) that the file's cleanups stop. */
export async function harness(cleanups: Cleanups, options: HarnessOptions = {}): Promise<Harness> {
  const h = await startHarness(options);
  cleanups.push(() => h.stop());
  return h;
}

/** The package's client, speaking HTTP to the harness as support-bot. */
export function clientFor(h: Harness, token: string = TOKENS.support): CountersignClient {
  return new CountersignClient({ baseUrl: h.url, token });
}

/** Resolves with the id once guard()'s request is posted to Slack (so it can be clicked). */
export function postedId(h: Harness, ids: string[]): Promise<string> {
  return eventually(async () => {
    const id = ids[0];
    return id !== undefined && (await h.service.deps.store.getRequest(id))?.slackTs ? id : undefined;
  }, 10_000);
}

/** Number of requests stored in the harness's database. */
export async function storedRequests(h: Harness): Promise<number> {
  return (await h.service.deps.store.countByStatus()).reduce((sum, row) => sum + row.n, 0);
}

/** The harness's refund body, typed as the client types a create body. */
export const REFUND: CreateRequestBody = {
  ...HARNESS_REFUND,
  risk: { ...HARNESS_REFUND.risk, tier: "medium" },
  evidence: HARNESS_REFUND.evidence.flatMap((item) => (item ? [item] : [])),
};
