import type { Logger } from "pino";
import type { Clock } from "../clock.ts";
import type { AppConfig } from "../config/file.ts";
import type { Metrics } from "../metrics.ts";
import type { Store, Writes } from "../storage/ports.ts";
import type { TokenIssuer } from "../tokens/issuer.ts";
import type { RequestEvents } from "./events.ts";

/** What every verb is handed; nothing is reached through a module singleton. */
export interface Deps {
  store: Store;
  /** The one way to write: bounded waits, retried the same way on both databases, refused with StoreUnavailable. */
  writes: Writes;
  config: AppConfig;
  clock: Clock;
  events: RequestEvents;
  metrics: Metrics;
  log: Logger;
  /** Signs approval tokens inside the approving transaction. */
  tokens: TokenIssuer;
}
