import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { Deps } from "../approvals/deps.ts";
import { type SweepReport, sweep } from "../approvals/sweep.ts";
import { systemClock } from "../clock.ts";
import type { AuditReader } from "../storage/ports.ts";

/** Rows one slice of a cron sweep handles before yielding (≈ 140 µs each). */
const SWEEP_SLICE = 200;

export interface Scheduler {
  /** One sweep at the clock's now; with a budget, stops after that many rows (report.more). */
  sweepNow(budget?: number): Promise<SweepReport>;
  /** Logs the audit chain head (start-up, daily, shutdown): what an operator anchors outside the database. */
  logAuditHead(why: string): Promise<void>;
  /** Starts the cron jobs: the sweep (unless sweepCron is null) and the daily audit head. */
  start(): void;
  stop(): Promise<void>;
}

/**
 * The periodic work: the TTL sweep on SWEEP_CRON (one replica per tick, in
 * slices that hand the event loop back) and the daily audit-head log line.
 */
export function createScheduler(
  deps: Deps,
  options: {
    sweepCron: string | null;
    audit: AuditReader;
    log: Logger;
    /** Called after a sweep changed something (the outbox and callbacks have work). */
    afterChange: () => void;
    /** True once shutdown began: a running sweep stops between slices. */
    stopping: () => boolean;
  },
): Scheduler {
  const { log } = options;
  const sweepNow = async (budget?: number): Promise<SweepReport> => {
    const report = await sweep(deps, deps.clock.now(), budget);
    if (report.expired + report.escalated + report.reminded > 0) {
      log.info(report, "sweep");
      options.afterChange();
    }
    return report;
  };
  const logAuditHead = async (why: string) =>
    log.info({ audit_head: await options.audit.head() }, `audit chain head (${why})`);
  const tasks: ScheduledTask[] = [];
  return {
    sweepNow,
    logAuditHead,
    start() {
      // Once a day, so the head can be anchored outside the database (docs/audit.md).
      tasks.push(cron.schedule("0 0 * * *", () => logAuditHead("daily"), { name: "audit-head" }));
      if (options.sweepCron === null) return;
      const task = cron.schedule(
        options.sweepCron,
        async () => {
          try {
            // Replicas sharing one database fire together: the first to claim
            // this tick (its wall-clock second, as cron fires by) sweeps it.
            const tick = Math.floor(systemClock.now() / 1000);
            if (!(await deps.store.claimTick("sweep", tick))) return;
            log.debug({ tick }, "sweep tick claimed");
            // Slices of SWEEP_SLICE rows with the event loop handed back in
            // between, so a large backlog never stalls the API or Slack acks.
            for (;;) {
              if (options.stopping() || !(await sweepNow(SWEEP_SLICE)).more) break;
              await new Promise((resolve) => setImmediate(resolve));
            }
          } catch (error) {
            log.error({ err: error }, "sweep failed; retrying at the next tick");
          }
        },
        { noOverlap: true, name: "sweep" },
      );
      tasks.unshift(task);
    },
    async stop() {
      for (const task of tasks) await task.stop();
    },
  };
}
