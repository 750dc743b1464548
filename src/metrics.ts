import { Counter, Gauge, Histogram, Registry } from "prom-client";
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
}

/**
 * Prometheus metrics in a registry of their own (no global state). Request
 * counts are kept in memory from one GROUP BY at start-up, so a scrape never
 * scans the requests table.
 */
export function createMetrics(sources: MetricsSources) {
  const registry = new Registry();
  const requests = new Gauge({
    name: "countersign_requests",
    help: "Requests by status and resolution",
    labelNames: ["status", "resolution"] as const,
    registers: [registry],
  });
  const created = new Counter({
    name: "countersign_requests_created_total",
    help: "Requests accepted, by policy and routing",
    labelNames: ["policy", "route"] as const,
    registers: [registry],
  });
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
      created.inc({ policy, route: routed ? "human" : "policy" });
      requests.inc({ status, resolution: label(resolution) });
      // A policy decision is final at creation: it counts as a decision taken in 0 s.
      if (resolution !== null) timeToDecision.observe({ resolution, decided_by: decidedBy(resolution) }, 0);
    },
    finalized(status: Status, resolution: Resolution, createdAt: number, decidedAt: number) {
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
