import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";

/**
 * The workspaces countersign answers: SLACK_TEAM_ID when set, else the bot
 * token's own (auth.test). Null while that is unknown (Slack unreachable
 * since start-up): then nothing is answered.
 */
export type AllowedTeams = () => Promise<ReadonlySet<string> | null>;

/** Every team id a signed request names: the workspace it came from and the user's own. */
export function teamsOf(body: unknown): string[] {
  const b = (body ?? {}) as {
    team?: { id?: unknown } | null;
    team_id?: unknown;
    user?: { team_id?: unknown } | null;
  };
  const ids = [b.team?.id, b.team_id, b.user?.team_id].filter(
    (id): id is string => typeof id === "string" && id !== "",
  );
  return [...new Set(ids)];
}

/**
 * Global Bolt middleware, ahead of every listener: a signed request from a
 * workspace other than the installed one (a Slack Connect user, another
 * install of the same app, a misrouted request) is acknowledged and dropped —
 * no vote, no refusal posted into the other workspace — and logged.
 */
export function teamGuard(deps: {
  allowed: AllowedTeams;
  log: Logger;
  metrics: Pick<Metrics, "refusedClick">;
}): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const teams = teamsOf(args.body);
    const allowed = await deps.allowed();
    const foreign = allowed === null ? teams : teams.filter((team) => !allowed.has(team));
    if (allowed !== null && teams.length > 0 && foreign.length === 0) return args.next();
    deps.metrics.refusedClick("other_workspace");
    deps.log.warn(
      {
        teams,
        installed: allowed === null ? null : [...allowed],
        type: (args.body as { type?: unknown }).type,
      },
      allowed === null
        ? "refused a Slack request: the installed workspace is unknown (auth.test has not answered; set SLACK_TEAM_ID)"
        : "refused a signed Slack request from another workspace",
    );
    // Events were acknowledged by Bolt already; anything else is acknowledged empty.
    if ("ack" in args && typeof args.ack === "function") await (args.ack as () => Promise<void>)();
  };
}
