import type { Logger } from "pino";
import type { Deps } from "../approvals/deps.ts";
import { RequestEvents } from "../approvals/events.ts";
import type { Clock } from "../clock.ts";
import type { AppConfig } from "../config/file.ts";
import { createMetrics } from "../metrics.ts";
import type { Backend } from "../storage/ports.ts";
import { backfillTokens } from "../tokens/backfill.ts";
import { createTokenIssuer, maxTokenTtlMs } from "../tokens/issuer.ts";
import { ensureSigningKey } from "../tokens/keys.ts";
import { shared } from "./lifecycle.ts";

/**
 * What every verb is handed, built on an open storage backend: metrics seeded
 * from the stored counts, the approval-token signing key ensured (before
 * anything listens, so every approval has a key) and tokens issued for
 * requests approved before tokens existed.
 */
export async function wireDeps(
  backend: Backend,
  options: { config: AppConfig; clock: Clock; log: Logger; signingKey: string | null },
): Promise<Deps> {
  const { config, clock, log } = options;
  const { store, keys, writes } = backend;
  const events = new RequestEvents(backend.bus);
  const metrics = createMetrics(
    {
      outboxDepth: store.outboxDepth,
      pendingCallbacks: store.pendingCallbacks,
      oldestPendingCreatedAt: store.oldestPendingCreatedAt,
      countPending: store.countPending,
      now: () => clock.now(),
    },
    config,
  );
  metrics.seed(await store.countByStatus());
  const suppliedKey = options.signingKey;
  const signingKey = await shared(() =>
    ensureSigningKey(keys, { now: clock.now(), retainMs: maxTokenTtlMs(config), supplied: suppliedKey }),
  );
  if (signingKey.created) log.info({ kid: signingKey.kid }, "created the approval-token signing key");
  const tokens = createTokenIssuer({ keys, config, suppliedKey });
  const backfilled = await backfillTokens({ store, writes, tokens }, clock.now());
  if (backfilled > 0)
    log.info({ count: backfilled }, "issued approval tokens for requests approved before tokens existed");
  return { store, writes, config, clock, events, metrics, log, tokens };
}
