import type { WebClient } from "@slack/web-api";
import type { Clock } from "../clock.ts";

export interface UsergroupOptions {
  /** How long a member list is trusted. */
  ttlMs?: number;
  /** A miss refreshes the list, but not more often than this (usergroups.users.list is tier 2). */
  minRefreshMs?: number;
}

/**
 * Answers "is this user in that user group?" from a short-lived cache of
 * usergroups.users.list, refreshed when it is stale or when a user is missing
 * from it; concurrent lookups of one group share a single call.
 */
export function createUsergroupDirectory(client: WebClient, clock: Clock, options: UsergroupOptions = {}) {
  const ttlMs = options.ttlMs ?? 60_000;
  const minRefreshMs = options.minRefreshMs ?? 10_000;
  const cache = new Map<string, { members: Set<string>; fetchedAt: number }>();
  const inFlight = new Map<string, Promise<Set<string>>>();
  const failedAt = new Map<string, number>();

  const fetchMembers = (group: string): Promise<Set<string>> => {
    const running = inFlight.get(group);
    if (running !== undefined) return running;
    const call = client.usergroups.users
      .list({ usergroup: group })
      .then((result) => {
        const members = new Set(result.users ?? []);
        cache.set(group, { members, fetchedAt: clock.now() });
        return members;
      })
      .finally(() => inFlight.delete(group));
    inFlight.set(group, call);
    return call;
  };

  return {
    /**
     * Throws only when Slack cannot answer and no list was ever fetched; after a
     * failed refresh the last known list answers until the refresh interval passed.
     */
    async isMember(group: string, userId: string): Promise<boolean> {
      const cached = cache.get(group);
      const now = clock.now();
      const age = cached ? now - cached.fetchedAt : Number.POSITIVE_INFINITY;
      if (cached && age < ttlMs && cached.members.has(userId)) return true;
      if (cached && age < minRefreshMs) return false;
      const failed = failedAt.get(group);
      if (cached && failed !== undefined && now - failed < minRefreshMs) return cached.members.has(userId);
      try {
        const members = await fetchMembers(group);
        failedAt.delete(group);
        return members.has(userId);
      } catch (error) {
        failedAt.set(group, clock.now());
        if (cached) return cached.members.has(userId);
        throw error;
      }
    },
  };
}
