import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Policy } from "./config/file.ts";
import { RESOLUTIONS, type Resolution, type Status } from "./domain/vocabulary.ts";

/** Who settled a request, one label value per resolution (low cardinality by construction). */
export function decidedBy(resolution: Resolution): "human" | "policy" | "timeout" | "agent" {
  switch (resolution) {
    case "approved_by_humans":
    case "rejected_by_human":
    case "changes_requested":
      return "human";
    case "approved_by_policy":
    case "rejected_by_policy":
      return "policy";
    case "approval_timeout":
      return "timeout";
    case "cancelled_by_agent":
      return "agent";
  }
}

export interface MetricsSources {
  outboxDepth(): Promise<number>;
  pendingCallbacks(): Promise<number>;
  /** Read from the database at scrape time (an index seek per agent), so replicas agree. */
  oldestPendingCreatedAt(): Promise<number | null>;
  /** Read from the database at scrape time (a count over the pending-only index). */
  countPending(): Promise<number>;
  /** The service's clock (ages are measured against it). */
  now(): number;
}

/** What a policy can end in, so its series exist (at zero) before the first one does. */
function resolutionsOf(policy: Pick<Policy, "decision" | "sample">): Resolution[] {
  if (policy.decision === "approve") return ["approved_by_policy"];
  if (policy.decision === "reject") return ["rejected_by_policy"];
  const human: Resolution[] = [
    "approved_by_humans",
    "rejected_by_human",
    "changes_requested",
    "approval_timeout",
    "cancelled_by_agent",
  ];
  return policy.sample === null ? human : ["approved_by_policy", ...human];
}

/**
 * The `action` label of a policy's series: its action glob(s) as written in the
 * config ("refund.*"; several joined with "|"; "*" when it matches any action),
 * never the request's own action, so the label set stays as small as the config.
 */
export function actionGlobOf(policy: Pick<Policy, "match">): string {
  const action = policy.match.spec.action;
  if (typeof action === "string") return action;
  if (Array.isArray(action)) return action.map(String).join("|");
  return "*";
}

/**
 * Prometheus metrics in a registry of their own (no global state). Request
 * counts are kept in memory from one GROUP BY at start-up, so a scrape never
 * scans the requests table.
 */
export function createMetrics(
  sources: MetricsSources,
  config: { policies: readonly Pick<Policy, "name" | "match" | "decision" | "sample">[] } = { policies: [] },
) {
  const registry = new Registry();
  const globs = new Map(config.policies.map((p) => [p.name, actionGlobOf(p)]));
  // A request decided by a policy no longer in the config keeps its name; its glob is unknown.
  const policyLabels = (policy: string) => ({ policy, action: globs.get(policy) ?? "unknown" });
  const requests = new Gauge({
    name: "countersign_requests",
    help: "Requests by status and resolution",
    labelNames: ["status", "resolution"] as const,
    registers: [registry],
  });
  const created = new Counter({
    name: "countersign_requests_created_total",
    help: "Requests accepted, by policy, the policy's action glob and routing (human or policy)",
    labelNames: ["policy", "action", "route"] as const,
    registers: [registry],
  });
  const finalizedTotal = new Counter({
    name: "countersign_requests_finalized_total",
    help: "Requests that reached a final status, by policy, the policy's action glob, resolution and who decided",
    labelNames: ["policy", "action", "resolution", "decided_by"] as const,
    registers: [registry],
  });
  for (const policy of config.policies) {
    const labels = policyLabels(policy.name);
    if (policy.decision === null) created.inc({ ...labels, route: "human" }, 0);
    if (policy.decision !== null || policy.sample !== null) created.inc({ ...labels, route: "policy" }, 0);
    for (const resolution of resolutionsOf(policy))
      finalizedTotal.inc({ ...labels, resolution, decided_by: decidedBy(resolution) }, 0);
  }
  const timeToDecision = new Histogram({
    name: "countersign_time_to_decision_seconds",
    help: "Time from creation to a final status, by resolution and who decided (policy decisions count as 0 s)",
    labelNames: ["resolution", "decided_by"] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400],
    registers: [registry],
  });
  // Every series exists from the start, so dashboards and rate() see zeros, not gaps.
  for (const resolution of RESOLUTIONS)
    timeToDecision.zero({ resolution, decided_by: decidedBy(resolution) });
  const escalations = new Counter({
    name: "countersign_escalations_total",
    help: "Requests escalated to a manager",
    registers: [registry],
  });
  const reminders = new Counter({
    name: "countersign_reminders_total",
    help: "Reminders posted to approvers",
    registers: [registry],
  });
  const expiries = new Counter({
    name: "countersign_expiries_total",
    help: "Requests auto-rejected at their TTL",
    registers: [registry],
  });
  const refusedClicks = new Counter({
    name: "countersign_refused_clicks_total",
    help: "Slack clicks refused, by reason",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const slackCalls = new Counter({
    name: "countersign_slack_calls_total",
    help: "Slack Web API calls made by the outbox, by method and result",
    labelNames: ["method", "result"] as const,
    registers: [registry],
  });
  const callbackAttempts = new Counter({
    name: "countersign_callback_attempts_total",
    help: "Callback delivery attempts, by result (delivered, retry, gone, gave_up)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "countersign_slack_outbox_depth",
    help: "Slack side effects waiting to be sent",
    registers: [registry],
    async collect() {
      this.set(await sources.outboxDepth());
    },
  });
  new Gauge({
    name: "countersign_pending_requests",
    help: "Requests waiting for a decision, read from the database at scrape time (the same on every replica)",
    registers: [registry],
    async collect() {
      this.set(await sources.countPending());
    },
  });
  new Gauge({
    name: "countersign_oldest_pending_age_seconds",
    help: "Age of the oldest pending request (0 when none is pending), read from the database at scrape time",
    registers: [registry],
    async collect() {
      const oldest = await sources.oldestPendingCreatedAt();
      this.set(oldest === null ? 0 : Math.max(0, sources.now() - oldest) / 1000);
    },
  });
  new Gauge({
    name: "countersign_callbacks_pending",
    help: "Callbacks not yet delivered",
    registers: [registry],
    async collect() {
      this.set(await sources.pendingCallbacks());
    },
  });
  const apiResponses = new Counter({
    name: "countersign_api_responses_total",
    help: "Agent API responses by route and HTTP status",
    labelNames: ["route", "status"] as const,
    registers: [registry],
  });

  const label = (r: Resolution | null) => r ?? "none";
  return {
    registry,
    seed(rows: { status: Status; resolution: Resolution | null; n: number }[]) {
      for (const r of rows) requests.set({ status: r.status, resolution: label(r.resolution) }, r.n);
    },
    created(policy: string, status: Status, resolution: Resolution | null, routed: boolean) {
      created.inc({ ...policyLabels(policy), route: routed ? "human" : "policy" });
      requests.inc({ status, resolution: label(resolution) });
      // A policy decision is final at creation: it counts as a decision taken in 0 s.
      if (resolution !== null) {
        timeToDecision.observe({ resolution, decided_by: decidedBy(resolution) }, 0);
        finalizedTotal.inc({ ...policyLabels(policy), resolution, decided_by: decidedBy(resolution) });
      }
    },
    finalized(status: Status, resolution: Resolution, createdAt: number, decidedAt: number, policy: string) {
      finalizedTotal.inc({ ...policyLabels(policy), resolution, decided_by: decidedBy(resolution) });
      requests.dec({ status: "pending", resolution: "none" });
      requests.inc({ status, resolution });
      timeToDecision.observe(
        { resolution, decided_by: decidedBy(resolution) },
        Math.max(0, decidedAt - createdAt) / 1000,
      );
      if (resolution === "approval_timeout") expiries.inc();
    },
    escalated: () => escalations.inc(),
    reminded: () => reminders.inc(),
    refusedClick: (reason: string) => refusedClicks.inc({ reason }),
    slackCall: (method: string, result: string) => slackCalls.inc({ method, result }),
    callbackAttempt: (result: "delivered" | "retry" | "gone" | "gave_up") => callbackAttempts.inc({ result }),
    apiResponse: (route: string, status: number) => apiResponses.inc({ route, status: String(status) }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
