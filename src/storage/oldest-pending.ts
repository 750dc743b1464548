/**
 * The creation time of the oldest pending request, for the
 * `countersign_oldest_pending_age_seconds` gauge, read from the database at
 * scrape time so every replica reports the same truth.
 *
 * Cheap at any size of history: a loose index scan over the partial index
 * `requests_agent_pending_created` (agent, created_at, id) WHERE status =
 * 'pending'. The recursive part hops from one agent to the next (one index
 * seek each), and each agent's oldest pending request is the first entry of
 * its range (one more seek): O(agents × log pending), never a scan of
 * stored or pending rows. Same text for SQLite and PostgreSQL; the status
 * literal (not a parameter) lets both planners use the partial index.
 */
export const OLDEST_PENDING_SQL = `
WITH RECURSIVE pending_agents(agent) AS (
  SELECT min(agent) FROM requests WHERE status = 'pending'
  UNION ALL
  SELECT (SELECT min(r.agent) FROM requests r WHERE r.status = 'pending' AND r.agent > pending_agents.agent)
  FROM pending_agents WHERE pending_agents.agent IS NOT NULL
)
SELECT min((SELECT min(r.created_at) FROM requests r WHERE r.status = 'pending' AND r.agent = pending_agents.agent)) AS oldest
FROM pending_agents WHERE pending_agents.agent IS NOT NULL`;

/**
 * How many requests are pending: a count over the partial index
 * `requests_pending_expires` (pending rows only), so its cost follows the
 * number of pending requests, never the stored history.
 */
export const PENDING_COUNT_SQL = "SELECT count(*) AS n FROM requests WHERE status = 'pending'";

/** The query's single value as a number of milliseconds, or null when nothing is pending. */
export function oldestFrom(row: { oldest?: unknown } | undefined): number | null {
  const value = row?.oldest;
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
