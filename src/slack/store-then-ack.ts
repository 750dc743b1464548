import { performance } from "node:perf_hooks";
import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import type { MembershipCheck } from "../approvals/authority.ts";
import { isUnavailable } from "../storage/unavailable.ts";

/**
 * CONTRACT §5 for every Slack interaction (buttons, modal submissions, and
 * whatever the next issues add): what an interaction changes is committed
 * BEFORE Slack is told it succeeded, and an interaction that could not be
 * stored is never answered with silence.
 *
 *   1. `store(budget)` does everything the interaction changes, through
 *      `deps.writes` (group commit), and resolves once it is committed;
 *      refusals that are audited count as stored. It gets a `Budget` so slow
 *      steps (a user group lookup, a locked database) end in time.
 *   2. Only then `ack(answer(result))` (a modal's `response_action: errors`,
 *      or nothing for a button).
 *   3. `after(result)` runs once acked: kicking the outbox, opening a modal
 *      (anything that stores nothing).
 *   4. When `store` throws (database locked past the budget, disk full, a
 *      bug), nothing was stored: `notStored` says what to do —
 *      `{ ack: payload }` answers with it (a modal shows the error inline), or
 *      `{ ephemeral: { client, channel, user } }` tells the clicker and
 *      withholds the ack: the listener throws `InteractionNotStored`, which
 *      `rethrowNotStored` in app.error turns into a failed answer (HTTP 500,
 *      no Socket Mode ack), so Slack too shows the click did not go through.
 */
export async function storeThenAck<T, A>(interaction: {
  ack: (answer?: A) => Promise<void>;
  store: (budget: Budget) => Promise<T>;
  answer?: (stored: T) => A | undefined | Promise<A | undefined>;
  after?: (stored: T) => void | Promise<void>;
  notStored: (error: unknown) => { ack: A } | { ephemeral: EphemeralTarget };
  log: Logger;
  /** For the log line when nothing could be stored. */
  what: Record<string, unknown>;
}): Promise<void> {
  const budget = startBudget();
  let stored: T;
  try {
    stored = await interaction.store(budget);
  } catch (error) {
    const unavailable = isUnavailable(error);
    const text = notStoredText(unavailable);
    const plan = interaction.notStored(error);
    if ("ack" in plan) {
      interaction.log.warn({ err: error, ...interaction.what }, "interaction not stored; the user was told");
      return interaction.ack(plan.ack);
    }
    const { client, channel, user } = plan.ephemeral;
    if (channel !== null) {
      // Straight to Slack, not through the outbox: the outbox lives in the database that just failed.
      client.chat.postEphemeral({ channel, user, text }).catch((postError: unknown) => {
        interaction.log.error(
          { err: postError, ...interaction.what },
          "could not tell the user their click was not stored",
        );
      });
    }
    throw new InteractionNotStored(`interaction not stored: ${String((error as Error)?.message ?? error)}`, {
      cause: error,
    });
  }
  await interaction.ack(await interaction.answer?.(stored));
  await interaction.after?.(stored);
}

export interface EphemeralTarget {
  client: WebClient;
  /** Where the click happened; null when the payload has none (nobody can be told then). */
  channel: string | null;
  user: string;
}

/** Time left before Slack's 3 seconds are up, with room for the answer itself. */
export interface Budget {
  /** Milliseconds left to spend (never below `floorMs`). */
  left(floorMs?: number): number;
}

/** What an interaction may spend in all before it must be answered: Slack allows 3 s. */
export const INTERACTION_BUDGET_MS = 2_000;
/** A user group lookup may take this much of it; past that the lookup counts as failed. */
export const LOOKUP_BUDGET_MS = 1_500;

function startBudget(totalMs = INTERACTION_BUDGET_MS): Budget {
  const started = performance.now();
  return {
    left: (floorMs = 100) => Math.max(floorMs, totalMs - (performance.now() - started)),
  };
}

export const notStoredText = (unavailable: boolean): string =>
  unavailable
    ? "countersign could not save your click: its database cannot take writes right now. Nothing was recorded — please try again in a moment."
    : "countersign hit an error and did not record your click. Nothing was recorded — please try again.";

/** Thrown by a listener whose interaction could not be stored: Slack must not get a success. */
export class InteractionNotStored extends Error {
  /** Bolt passes errors with a `code` to app.error unwrapped. */
  readonly code = "countersign_interaction_not_stored";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InteractionNotStored";
  }
}

/** In app.error: an unstored interaction is rethrown so the receiver answers with a failure. */
export function rethrowNotStored(error: unknown): void {
  if (error instanceof InteractionNotStored) throw error;
}

/**
 * A membership check that fails after `ms`; the lookup itself runs on and
 * fills the cache, so the approver's next attempt is answered at once.
 */
export function withDeadline(
  isMember: MembershipCheck,
  ms: number,
): { check: MembershipCheck; timedOut: () => boolean } {
  let timedOut = false;
  const check: MembershipCheck = (group, userId) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error(`usergroup lookup took longer than ${ms} ms`));
      }, ms);
    });
    return Promise.race([isMember(group, userId), deadline]).finally(() => clearTimeout(timer));
  };
  return { check, timedOut: () => timedOut };
}
