import type { JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { createRefundGateway } from "../../clients/typescript/examples/gateway.ts";
import {
  ApprovalTokenError,
  type ApprovalClaims as ClientClaims,
  type TokenErrorReason,
  verifyApprovalToken,
} from "../../clients/typescript/src/index.ts";
import { useCleanups } from "../support/cleanups.ts";
import { eventually, type Harness } from "../support/harness.ts";
import { clientFor, harness, REFUND } from "./helpers.ts";

const cleanups = useCleanups();
const PARAMS = { amount: 75, currency: "USD", order_id: "48213" };

/** A request approved by a person in Slack, and its approval token as the service issued it. */
async function approvedToken(h: Harness): Promise<{ id: string; token: string }> {
  const client = clientFor(h);
  const { request } = await client.createRequest({ ...REFUND, params: PARAMS });
  await eventually(async () => (await h.service.deps.store.getRequest(request.id))?.slackTs);
  await h.click("U0LEAD1", "approve", request.id);
  const approved = await client.getRequest(request.id, { wait: 10 });
  expect(approved.status).toBe("approved");
  expect(typeof approved.approval_token).toBe("string");
  return { id: request.id, token: approved.approval_token! };
}

async function reasonOf(promise: Promise<unknown>): Promise<TokenErrorReason> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApprovalTokenError);
  return (error as ApprovalTokenError).reason;
}

describe("a tool gateway verifying the service's real tokens", () => {
  it("accepts the approved params; refuses other params, no token, another action, another agent, an expired token", async () => {
    const h = await harness(cleanups);
    const { id, token } = await approvedToken(h);
    const jwksUrl = `${h.url}/.well-known/jwks.json`;
    const now = () => new Date(h.clock.now());
    const refund = createRefundGateway({ jwksUrl, agentId: "support-bot", now });

    const claims: ClientClaims = await refund(token, PARAMS);
    expect(claims).toMatchObject({
      sub: id,
      aud: "support-bot",
      act: "refund.issue",
      approvers: ["U0LEAD1"],
    });
    expect(await reasonOf(refund(token, { ...PARAMS, amount: 7500 }))).toBe("wrong_args");
    expect(await reasonOf(refund(undefined, PARAMS))).toBe("missing");
    expect(await reasonOf(createRefundGateway({ jwksUrl, agentId: "deploy-bot", now })(token, PARAMS))).toBe(
      "wrong_audience",
    );
    const base = { jwksUrl, params: PARAMS, audience: "support-bot", currentDate: now() };
    expect(await reasonOf(verifyApprovalToken(token, { ...base, action: "refund.void" }))).toBe(
      "wrong_action",
    );
    const later = new Date(h.clock.now() + 16 * 60_000);
    expect(
      await reasonOf(verifyApprovalToken(token, { ...base, action: "refund.issue", currentDate: later })),
    ).toBe("expired");
  });

  it("offline: with the JWKS fetched once, tokens verify after the service is gone", async () => {
    const h = await harness(cleanups);
    const { token } = await approvedToken(h);
    const jwks = (await (await fetch(`${h.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    const currentDate = new Date(h.clock.now());
    await h.stop();
    await expect(
      verifyApprovalToken(token, {
        jwks,
        action: "refund.issue",
        params: PARAMS,
        audience: "support-bot",
        currentDate,
      }),
    ).resolves.toMatchObject({ act: "refund.issue" });
  });
});
