/**
 * 1b. Does signing limit intake? POST /v1/requests with the same body against
 * three countersign servers: routed to Slack (pending), approved by policy
 * (each intake signs an Ed25519 approval token in its transaction) and
 * rejected by policy (the same writes, no token). The machine is shared, so
 * the servers take turns in short rounds and each ratio is the median of the
 * per-round ratios: load from elsewhere hits both sides of a ratio alike.
 * Between its turns a stack is paused (SIGSTOP), so the pending server's
 * Slack backlog does not drain on the CPU of another server's turn.
 * CPU time per intake (the server process's own, from process.cpuUsage) is
 * reported too: on a busy machine it is the steadier measure of capacity.
 */
import { join } from "node:path";
import type { BenchContext } from "./lib/context.ts";
import { pick } from "./lib/context.ts";
import {
  AGENT_TOKEN,
  POLICY_APPROVE_CONFIG,
  POLICY_REJECT_CONFIG,
  REFUND,
  SUPPORT_CONFIG,
} from "./lib/fixtures.ts";
import { type LoadResult, load } from "./lib/load.ts";
import { check, info, type Metric } from "./lib/report.ts";
import { type Stack, startCountersign, startFakeSlackChild } from "./lib/stack.ts";
import { median, percentile } from "./lib/stats.ts";

const B = "intake";
const CONNECTIONS = 50;
const KINDS = ["pending", "approved", "rejected"] as const;
type Kind = (typeof KINDS)[number];
const CONFIGS: Record<Kind, string> = {
  pending: SUPPORT_CONFIG,
  approved: POLICY_APPROVE_CONFIG,
  rejected: POLICY_REJECT_CONFIG,
};

/** Freezes or resumes a stack's processes (countersign and its fake Slack). */
function pause(stack: Stack, paused: boolean): void {
  for (const pid of [stack.service.pid, stack.slack.pid]) process.kill(pid, paused ? "SIGSTOP" : "SIGCONT");
}

export async function signingComparison(ctx: BenchContext, dir: string): Promise<Metric[]> {
  const rounds = pick(ctx.size, { tiny: 1, quick: 3, full: 5 });
  const roundS = pick(ctx.size, { tiny: 0.5, quick: 2, full: 3 });
  const warmupS = pick(ctx.size, { tiny: 0.3, quick: 1, full: 1 });
  ctx.say(
    `pending vs policy-approved (signs a token) vs policy-rejected: ${rounds} rounds of ${roundS} s each, taking turns`,
  );
  const stacks = {} as Record<Kind, Stack>;
  const results: Record<Kind, LoadResult[]> = { pending: [], approved: [], rejected: [] };
  /** Server CPU µs per answered intake, per round. */
  const cpuPer: Record<Kind, number[]> = { pending: [], approved: [], rejected: [] };
  try {
    for (const kind of KINDS) {
      const slack = await startFakeSlackChild(`${B}-${kind}`, dir);
      stacks[kind] = await startCountersign(ctx, `${B}-${kind}`, dir, slack, {
        configYaml: CONFIGS[kind],
        dbPath: join(dir, `cs-${kind}.db`),
      });
    }
    const body = JSON.stringify(REFUND);
    for (const kind of KINDS) pause(stacks[kind], true);
    for (let round = 0; round < rounds; round += 1) {
      for (const kind of KINDS) {
        pause(stacks[kind], false);
        const cpu = () => stacks[kind].service.call<{ user: number; system: number }>("cpu");
        const before = await cpu();
        const run = await load(
          {
            url: `${stacks[kind].url}/v1/requests`,
            method: "POST",
            connections: CONNECTIONS,
            headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
            body,
            duration: roundS,
          },
          { seconds: warmupS },
        );
        const after = await cpu();
        const answered = Object.values(run.statuses).reduce((a, b) => a + b, 0);
        cpuPer[kind].push((after.user + after.system - before.user - before.system) / Math.max(1, answered));
        results[kind].push(run);
        pause(stacks[kind], true);
      }
    }
  } finally {
    for (const stack of Object.values(stacks)) {
      pause(stack, false);
      await stack.stop();
    }
  }

  const rps = (kind: Kind) => median(results[kind].map((r) => r.rps));
  const ratio = (a: Kind, b: Kind) =>
    median(results[a].map((r, i) => r.rps / (results[b][i]?.rps ?? Number.NaN)));
  const approvedVsPending = ratio("approved", "pending");
  const perRound = (a: Kind, b: Kind) =>
    results[a].map((r, i) => (r.rps / (results[b][i]?.rps ?? Number.NaN)).toFixed(2)).join(", ");
  const failed = KINDS.flatMap((kind) => results[kind].map((r) => r.failed)).reduce((a, b) => a + b, 0);
  const metrics = [
    info(B, "pending intake (turns): req/s", rps("pending"), "req/s", `median of ${rounds} rounds`),
    {
      bench: B,
      name: "policy-approved (signs a token): req/s",
      value: rps("approved"),
      unit: "req/s",
      bar: "≥ 0.90 × pending intake",
      ratio: approvedVsPending,
      pass: approvedVsPending >= 0.9,
      note: `ratio: median over the rounds of approved ÷ pending; each round: ${perRound("approved", "pending")}`,
    } satisfies Metric,
    info(
      B,
      "policy-approved: p99",
      percentile(
        results.approved.flatMap((r) => r.latencies),
        99,
      ),
      "ms",
    ),
    info(B, "policy-rejected (same writes, no token): req/s", rps("rejected"), "req/s"),
    info(B, "server CPU per intake: pending", median(cpuPer.pending), "µs"),
    info(B, "server CPU per intake: policy-approved", median(cpuPer.approved), "µs"),
    info(B, "server CPU per intake: policy-rejected", median(cpuPer.rejected), "µs"),
    info(
      B,
      "capacity by CPU: approved ÷ pending",
      median(cpuPer.pending) / median(cpuPer.approved),
      "×",
      "intakes per CPU-second, the steadier ratio on a busy machine",
    ),
    info(
      B,
      "policy-approved ÷ policy-rejected",
      ratio("approved", "rejected"),
      "×",
      "what signing costs at saturation",
    ),
    check(B, "every turn answered 201", failed === 0, `${failed} failed`),
  ];
  return metrics;
}
