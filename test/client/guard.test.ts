import { describe, expect, it, vi } from "vitest";
import {
  ApprovalAlreadyUsedError,
  ApprovalCancelledError,
  ApprovalError,
  ApprovalExpiredError,
  ApprovalRejectedError,
  CountersignClient,
  type CreateRequestBody,
  type GuardOptions,
  guard,
} from "../../clients/typescript/src/index.ts";
import { startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { TOKENS } from "../support/config.ts";
import { eventually, type Harness, tempDir } from "../support/harness.ts";
import { clientFor, harness, postedId, REFUND, storedRequests } from "./helpers.ts";

const cleanups = useCleanups();
const MINUTE = 60_000;

/** guard() options for a harness: its client, token expiry judged by its fake clock, ids collected. */
function optionsFor(h: Harness, ids: string[], extra: Partial<GuardOptions> = {}): GuardOptions {
  return {
    client: clientFor(h),
    currentDate: () => new Date(h.clock.now()),
    onCreated: (request) => ids.push(request.id),
    ...extra,
  };
}

const status = async (h: Harness, id: string) => (await h.service.deps.store.getRequest(id))?.status;

describe("guard() against the real service", () => {
  it("pending → approver approves → fn runs once with the verified params and token, outcome succeeded", async () => {
    const h = await harness(cleanups);
    const ids: string[] = [];
    const fn = vi.fn(async (params: Record<string, unknown>) => `refunded ${String(params.amount)}`);
    const running = guard(REFUND, fn, optionsFor(h, ids));
    const id = await postedId(h, ids);
    expect(fn).not.toHaveBeenCalled();
    await h.click("U0LEAD1", "approve", id);

    await expect(running).resolves.toBe("refunded 75");
    expect(fn).toHaveBeenCalledTimes(1);
    const [params, context] = fn.mock.calls[0] as unknown as [
      Record<string, unknown>,
      { approvalToken: string; claims: Record<string, unknown> },
    ];
    expect(params).toEqual(REFUND.params);
    expect(context.claims).toMatchObject({ sub: id, aud: "support-bot", act: "refund.issue" });
    expect(context.approvalToken.split(".")).toHaveLength(3);
    const stored = await clientFor(h).getRequest(id);
    expect(stored.outcome).toMatchObject({ status: "succeeded" });
  });

  it("approved by policy (no human) → fn runs at once with a verified token", async () => {
    const h = await harness(cleanups);
    const small = { ...REFUND, params: { amount: 20, currency: "USD" } };
    const fn = vi.fn((params: Record<string, unknown>) => params.amount);
    await expect(guard(small, fn, optionsFor(h, []))).resolves.toBe(20);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("pending → approver rejects with a reason → ApprovalRejectedError with approver and comment; fn never runs", async () => {
    const h = await harness(cleanups);
    const ids: string[] = [];
    const fn = vi.fn();
    const running = guard(REFUND, fn, optionsFor(h, ids)).catch((e: unknown) => e);
    const id = await postedId(h, ids);
    await h.click("U0LEAD2", "reject", id);
    await h.submitReject("U0LEAD2", id, "Customer already got a replacement");

    const error = await running;
    expect(error).toBeInstanceOf(ApprovalRejectedError);
    expect(error).toBeInstanceOf(ApprovalError);
    expect(error).toMatchObject({
      resolution: "rejected_by_human",
      approver: { slack_user_id: "U0LEAD2", name: "u0lead2" },
      comment: "Customer already got a replacement",
    });
    expect((error as ApprovalRejectedError).request.id).toBe(id);
    expect(fn).not.toHaveBeenCalled();
  });

  it("rejected by policy → ApprovalRejectedError (rejected_by_policy, no approver); fn never runs", async () => {
    const h = await harness(cleanups);
    const fn = vi.fn();
    const drop: CreateRequestBody = {
      action: "db.drop_table",
      summary: "Drop orders",
      params: { table: "orders" },
    };
    const error = await guard(drop, fn, optionsFor(h, [])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApprovalRejectedError);
    expect(error).toMatchObject({ resolution: "rejected_by_policy", approver: null, comment: null });
    expect(fn).not.toHaveBeenCalled();
  });

  it("pending + ttl elapsed (fake clock, sweep) → ApprovalExpiredError; fn never runs", async () => {
    const h = await harness(cleanups);
    const ids: string[] = [];
    const fn = vi.fn();
    const running = guard(REFUND, fn, optionsFor(h, ids)).catch((e: unknown) => e);
    const id = await postedId(h, ids);
    h.clock.advance(31 * MINUTE);
    await h.service.sweepNow();

    const error = await running;
    expect(error).toBeInstanceOf(ApprovalExpiredError);
    expect(error).toMatchObject({ resolution: "approval_timeout", approver: null });
    expect(await status(h, id)).toBe("expired");
    expect(fn).not.toHaveBeenCalled();
  });

  it("AbortSignal aborted while waiting → request cancelled (POST cancel), ApprovalCancelledError; fn never runs", async () => {
    const h = await harness(cleanups);
    const ids: string[] = [];
    const fn = vi.fn();
    const controller = new AbortController();
    const running = guard(REFUND, fn, optionsFor(h, ids, { signal: controller.signal })).catch(
      (e: unknown) => e,
    );
    const id = await postedId(h, ids);
    controller.abort(new Error("user closed the chat"));

    const error = await running;
    expect(error).toBeInstanceOf(ApprovalCancelledError);
    expect(error).toMatchObject({ resolution: "cancelled_by_agent" });
    expect((error as Error).cause).toEqual(new Error("user closed the chat"));
    expect(await status(h, id)).toBe("cancelled");
    expect((await h.service.deps.store.auditFor(id)).map((a) => a.event)).toContain("cancelled");
    expect(fn).not.toHaveBeenCalled();
  });

  it("an already aborted signal → nothing is created", async () => {
    const h = await harness(cleanups);
    const fn = vi.fn();
    const error = await guard(REFUND, fn, optionsFor(h, [], { signal: AbortSignal.abort() })).catch(
      (e: unknown) => e,
    );
    expect((error as Error).name).toBe("AbortError");
    expect(await storedRequests(h)).toBe(0);
  });

  it("countersign restarts while guard waits (file DB, same port) → guard keeps waiting, then runs fn after approval", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const slack = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
    cleanups.push(() => slack.close());
    const clock = new FakeClock();
    const dbPath = `${dir}/countersign.db`;
    const first = await harness(cleanups, { dbPath, slack, clock });
    const port = Number(new URL(first.url).port);
    const ids: string[] = [];
    const fn = vi.fn(async (params: Record<string, unknown>) => params.order_id);
    const running = guard(REFUND, fn, optionsFor(first, ids, { pollSeconds: 5 }));
    const id = await postedId(first, ids);

    await first.stop();
    await new Promise((r) => setTimeout(r, 300)); // guard sees connection refused and backs off
    const second = await harness(cleanups, { dbPath, slack, clock, port });
    expect(second.url).toBe(first.url);
    await second.click("U0LEAD1", "approve", id);

    await expect(running).resolves.toBe("48213");
    expect(fn).toHaveBeenCalledTimes(1);
    expect(await storedRequests(second)).toBe(1);
  });

  it("the same step retried after a crash → same request (one stored), fn runs once; a third try → ApprovalAlreadyUsedError", async () => {
    const h = await harness(cleanups);
    // The first attempt "crashes" while waiting: its long-poll gets a non-retryable answer.
    const crashing = new CountersignClient({
      baseUrl: h.url,
      token: TOKENS.support,
      fetch: async (input, init) =>
        init?.method === "GET" ? new Response("{}", { status: 400 }) : fetch(input, init),
    });
    const ids: string[] = [];
    const fn = vi.fn(async () => "done");
    await expect(
      guard(REFUND, fn, optionsFor(h, ids, { client: crashing, stepKey: "ticket-9/step-3" })),
    ).rejects.toThrow();

    const replays: boolean[] = [];
    const retried = guard(
      REFUND,
      fn,
      optionsFor(h, ids, {
        stepKey: "ticket-9/step-3",
        onCreated: (r, replayed) => {
          ids.push(r.id);
          replays.push(replayed);
        },
      }),
    );
    await eventually(() => replays.length === 1);
    expect(replays).toEqual([true]);
    expect(ids[1]).toBe(ids[0]);
    await h.click("U0LEAD1", "approve", ids[0]!);
    await expect(retried).resolves.toBe("done");
    expect(await storedRequests(h)).toBe(1);

    const third = await guard(REFUND, fn, optionsFor(h, [], { stepKey: "ticket-9/step-3" })).catch(
      (e: unknown) => e,
    );
    expect(third).toBeInstanceOf(ApprovalAlreadyUsedError);
    expect(fn).toHaveBeenCalledTimes(1);

    // Another step key asks anew.
    const fresh: string[] = [];
    void guard(
      REFUND,
      fn,
      optionsFor(h, fresh, { stepKey: "ticket-9/step-4", signal: AbortSignal.timeout(2000) }),
    ).catch(() => {});
    await eventually(() => fresh.length === 1);
    expect(fresh[0]).not.toBe(ids[0]);
    expect(await storedRequests(h)).toBe(2);
  });

  it("fn throws → outcome failed with the error's message, and the same error is rethrown", async () => {
    const h = await harness(cleanups);
    const small = { ...REFUND, params: { amount: 10, currency: "USD" } };
    const boom = new Error("payment provider said 502");
    const ids: string[] = [];
    const error = await guard(
      small,
      async () => {
        throw boom;
      },
      optionsFor(h, ids),
    ).catch((e: unknown) => e);
    expect(error).toBe(boom);
    const stored = await clientFor(h).getRequest(ids[0]!);
    expect(stored.outcome).toMatchObject({ status: "failed", detail: "payment provider said 502" });
  });
});
