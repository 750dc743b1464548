import { escalationDue, expiryDue, reminderDue } from "../domain/transitions.ts";
import { isUnavailable } from "../storage/unavailable.ts";
import type { Deps } from "./deps.ts";
import { afterFinal, finalizeInTx, queueSlack } from "./finalize.ts";

export interface SweepReport {
  expired: number;
  escalated: number;
  reminded: number;
  failed: number;
  /** True when the pass stopped at its budget with due rows left. */
  more: boolean;
}

const BATCH = 500;

/**
 * One pass of the TTL sweep at `now`: expiries first (fail closed), then
 * escalations, then reminders. Due rows come from partial indexes, and each
 * row is handled in its own transaction so one bad row never blocks the rest.
 */
export async function sweep(
  deps: Deps,
  now: number,
  budget = Number.POSITIVE_INFINITY,
): Promise<SweepReport> {
  const report: SweepReport = { expired: 0, escalated: 0, reminded: 0, failed: 0, more: false };
  try {
    return await sweepInto(deps, report, now, budget);
  } catch (error) {
    if (!isUnavailable(error)) throw error;
    report.failed += 1;
    report.more = false;
    deps.log.warn({ err: error }, "sweep stopped: the database takes no writes now; the next tick retries");
    return report;
  }
}

async function sweepInto(deps: Deps, report: SweepReport, now: number, budget: number): Promise<SweepReport> {
  const spent = () => report.expired + report.escalated + report.reminded + report.failed;
  // A budget lets the caller hand the event loop back between slices of a large backlog.
  const left = () => {
    if (spent() < budget) return true;
    report.more = true;
    return false;
  };
  await drain(
    deps,
    report,
    (limit) => deps.store.dueExpiries(now, limit),
    (id) => expire(deps, id, now),
    "expired",
    left,
  );
  if (!left()) return report;
  await drain(
    deps,
    report,
    (limit) => deps.store.dueEscalations(now, limit),
    (id) => escalate(deps, id, now),
    "escalated",
    left,
  );
  if (!left()) return report;
  await drain(
    deps,
    report,
    (limit) => deps.store.dueReminders(now, limit),
    (id) => remind(deps, id, now),
    "reminded",
    left,
  );
  return report;
}

async function drain(
  deps: Deps,
  report: SweepReport,
  due: (limit: number) => Promise<string[]>,
  handle: (id: string) => Promise<boolean>,
  counter: "expired" | "escalated" | "reminded",
  left: () => boolean,
): Promise<void> {
  // Rows left due after their turn (failed, or skipped because they are past
  // their ttl) are not looked at again in this pass.
  const skipped = new Set<string>();
  for (;;) {
    const ids = (await due(BATCH + skipped.size)).filter((id) => !skipped.has(id));
    if (ids.length === 0) return;
    for (const id of ids) {
      if (!left()) return;
      try {
        if (await handle(id)) report[counter] += 1;
        else skipped.add(id);
      } catch (error) {
        // The database takes no writes (another process holds the lock, the
        // disk is full): every row would wait busy_timeout with the event loop
        // blocked, so the whole pass stops and the next tick tries again.
        if (isUnavailable(error)) throw error;
        // A row that cannot be handled is logged and skipped until the next
        // tick; the rest of the due set still goes through.
        skipped.add(id);
        report.failed += 1;
        deps.log.error({ err: error, requestId: id, step: counter }, "sweep could not handle a request");
      }
    }
    if (ids.length < BATCH) return;
  }
}

async function expire(deps: Deps, id: string, now: number): Promise<boolean> {
  const { store } = deps;
  const done = await deps.writes.run(async () => {
    const row = await store.getRequest(id);
    if (!row || !expiryDue(row, now)) return false;
    return finalizeInTx(
      deps,
      row,
      {
        resolution: "approval_timeout",
        actor: "system:sweep",
        detail: { ttl_ms: row.ttlMs },
      },
      now,
    );
  });
  if (done) await afterFinal(deps, id);
  return done;
}

async function escalate(deps: Deps, id: string, now: number): Promise<boolean> {
  const { store } = deps;
  const done = await deps.writes.run(async () => {
    const row = await store.getRequest(id);
    // Fail closed: a request past its ttl (whose expiry failed) is never handed to a manager.
    if (!row || !escalationDue(row, now)) return false;
    const manager = row.role === null ? null : (deps.config.roles[row.role]?.escalate_to ?? null);
    if (manager === null) {
      await store.skipEscalation(id);
      await store.audit(id, now, "escalation_skipped", "system:sweep", { reason: "role has no escalate_to" });
      return false;
    }
    if (!(await store.markEscalated(id, now, manager))) return false;
    await store.audit(id, now, "escalated", "system:sweep", { manager });
    await queueSlack(deps, id, { kind: "escalation_dm", manager }, now);
    await queueSlack(deps, id, { kind: "escalation_notice", manager }, now);
    await queueSlack(deps, id, { kind: "update" }, now);
    return true;
  });
  if (done) {
    deps.metrics.escalated();
    deps.events.notify(id);
  }
  return done;
}

async function remind(deps: Deps, id: string, now: number): Promise<boolean> {
  const { store } = deps;
  const done = await deps.writes.run(async () => {
    const row = await store.getRequest(id);
    if (!row || !reminderDue(row, now)) return false;
    if (!(await store.clearReminder(id))) return false;
    await store.audit(id, now, "reminded", "system:sweep");
    await queueSlack(deps, id, { kind: "reminder" }, now);
    return true;
  });
  if (done) deps.metrics.reminded();
  return done;
}
