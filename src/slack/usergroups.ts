import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import type { Clock } from "../clock.ts";

export interface UsergroupOptions {
  /** How long a member list is trusted to say "yes" (after that a hit refreshes it). */
  ttlMs?: number;
  /** A miss refreshes the list, but not more often than this (usergroups.users.list is tier 2). */
  minRefreshMs?: number;
  /** Past this age a list no longer answers for a Slack that cannot be reached: membership is unknown. */
  maxStaleMs?: number;
  /** Every group's list is fetched again this often, in the background (real time; 0: never). */
  refreshMs?: number;
  /** How long a click waits for a refresh when a list is already at hand, before the list answers. */
  waitMs?: number;
}

export const USERGROUP_DEFAULTS = {
  ttlMs: 60_000,
  minRefreshMs: 10_000,
  maxStaleMs: 60 * 60_000,
  refreshMs: 60_000,
  waitMs: 1_000,
} as const satisfies Required<UsergroupOptions>;

/** How long start-up waits for the first member lists before it listens anyway. */
const WARM_BUDGET_MS = 3_000;

/**
 * Slack could not tell whether the user is in the group, and no recent list
 * can: the clicker is told exactly that, never "you are not an approver".
 */
export class MembershipUnknown extends Error {
  readonly code = "countersign_membership_unknown";
  readonly usergroup: string;
  constructor(usergroup: string, cause: unknown) {
    super(
      `cannot check membership of user group ${usergroup}: ${String((cause as Error)?.message ?? cause)}`,
      {
        cause,
      },
    );
    this.name = "MembershipUnknown";
    this.usergroup = usergroup;
  }
}

/**
 * Answers "is this user in that user group?" from a cache of
 * usergroups.users.list: filled at start-up (`warm`), refreshed in the
 * background (`start`), and on a miss once the list is a little old.
 * Concurrent fetches of one group share a single call. A click never waits
 * on Slack when a recent list can answer; only when none can (never fetched,
 * or older than maxStaleMs while Slack fails) does `isMember` throw
 * MembershipUnknown.
 */
export function createUsergroupDirectory(
  client: WebClient,
  clock: Clock,
  options: UsergroupOptions & { log?: Logger } = {},
) {
  const { ttlMs, minRefreshMs, maxStaleMs, refreshMs, waitMs } = { ...USERGROUP_DEFAULTS, ...options };
  const { log } = options;
  const cache = new Map<string, { members: Set<string>; fetchedAt: number }>();
  const inFlight = new Map<string, Promise<Set<string>>>();
  const failedAt = new Map<string, number>();
  const known = new Set<string>();
  let timer: NodeJS.Timeout | null = null;

  const fetchMembers = (group: string): Promise<Set<string>> => {
    known.add(group);
    const running = inFlight.get(group);
    if (running !== undefined) return running;
    const call = client.usergroups.users
      .list({ usergroup: group })
      .then(
        (result) => {
          const members = new Set(result.users ?? []);
          cache.set(group, { members, fetchedAt: clock.now() });
          failedAt.delete(group);
          return members;
        },
        (error: unknown) => {
          // Slack's definite answer that the group does not exist: it has no members.
          if ((error as { data?: { error?: string } }).data?.error === "no_such_subteam") {
            log?.warn(
              { usergroup: group },
              "user group does not exist in Slack (no_such_subteam); it has no members",
            );
            const members = new Set<string>();
            cache.set(group, { members, fetchedAt: clock.now() });
            failedAt.delete(group);
            return members;
          }
          failedAt.set(group, clock.now());
          throw error;
        },
      )
      .finally(() => inFlight.delete(group));
    inFlight.set(group, call);
    return call;
  };

  /** The fetch, or null when it takes longer than `ms` (it runs on and fills the cache). */
  const within = (call: Promise<Set<string>>, ms: number): Promise<Set<string> | null> => {
    let t: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      t = setTimeout(() => resolve(null), ms);
    });
    return Promise.race([call, late]).finally(() => clearTimeout(t));
  };

  const refreshAll = async (groups: Iterable<string>): Promise<void> => {
    await Promise.all(
      [...new Set(groups)].map((group) =>
        fetchMembers(group).catch((error: unknown) =>
          log?.warn({ err: error, usergroup: group }, "could not fetch the members of a user group"),
        ),
      ),
    );
  };

  return {
    /**
     * Throws MembershipUnknown only when no list younger than maxStaleMs can
     * answer and Slack does not answer either.
     */
    async isMember(group: string, userId: string): Promise<boolean> {
      const cached = cache.get(group);
      const now = clock.now();
      const age = cached ? now - cached.fetchedAt : Number.POSITIVE_INFINITY;
      if (cached && age < ttlMs && cached.members.has(userId)) return true;
      if (cached && age < minRefreshMs) return false;
      const usable = cached !== undefined && age < maxStaleMs;
      const failed = failedAt.get(group);
      if (usable && failed !== undefined && now - failed < minRefreshMs) return cached.members.has(userId);
      try {
        if (!usable) return (await fetchMembers(group)).has(userId);
        // A list is at hand: a slow Slack delays this click a little, never fails it.
        const members = await within(fetchMembers(group), waitMs);
        return (members ?? cached.members).has(userId);
      } catch (error) {
        if (usable) return cached.members.has(userId);
        throw new MembershipUnknown(group, error);
      }
    },

    /** Fetches these groups' lists now; resolves once all answered or failed, or after a bounded wait. */
    async warm(groups: Iterable<string>, budgetMs = WARM_BUDGET_MS): Promise<void> {
      let t: NodeJS.Timeout | undefined;
      const budget = new Promise<void>((resolve) => {
        t = setTimeout(resolve, budgetMs);
      });
      await Promise.race([refreshAll(groups), budget]).finally(() => clearTimeout(t));
    },

    /** Refreshes every group seen so far (and these) every refreshMs, in the background. */
    start(groups: Iterable<string>): void {
      for (const group of groups) known.add(group);
      if (refreshMs <= 0 || timer !== null) return;
      timer = setInterval(() => void refreshAll(known), refreshMs);
      timer.unref();
    },

    stop(): void {
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}

export type UsergroupDirectory = ReturnType<typeof createUsergroupDirectory>;
