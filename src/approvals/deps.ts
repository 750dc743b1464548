import type { Logger } from "pino";
import type { Clock } from "../clock.ts";
import type { AppConfig } from "../config/file.ts";
import type { Store } from "../db/store.ts";
import type { Metrics } from "../metrics.ts";
import type { TokenIssuer } from "../tokens/issuer.ts";
import type { RequestEvents } from "./events.ts";

/** What every verb is handed; nothing is reached through a module singleton. */
export interface Deps {
  store: Store;
  config: AppConfig;
  clock: Clock;
  events: RequestEvents;
  metrics: Metrics;
  log: Logger;
  /** Signs approval tokens inside the approving transaction. */
  tokens: TokenIssuer;
}
