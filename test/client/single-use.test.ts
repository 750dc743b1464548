import type { JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import {
  ApprovalTokenError,
  CountersignApiError,
  CountersignClient,
  verifyApprovalToken,
} from "../../clients/typescript/src/index.ts";
import { useCleanups } from "../support/cleanups.ts";
import { TOKENS } from "../support/config.ts";
import { clientFor, harness, REFUND } from "./helpers.ts";

/** The client's re-issue and its opt-in online single-use check, against the real service. */
const cleanups = useCleanups();
const SMALL = { ...REFUND, params: { amount: 20, currency: "USD", order_id: "48213" } };

const reasonOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (error) {
    if (error instanceof ApprovalTokenError) return error.reason;
    throw error;
  }
  return "passed";
};

describe("verifyApprovalToken({ consume })", () => {
  it("a gateway shown the same token twice runs once: first verify passes, the replay → already_used", async () => {
    const h = await harness(cleanups);
    const client = clientFor(h);
    const { request } = await client.createRequest(SMALL);
    const options = {
      jwksUrl: client.jwksUrl,
      action: SMALL.action,
      params: SMALL.params,
      audience: "support-bot",
      currentDate: new Date(h.clock.now()),
      consume: client,
    };
    const claims = await verifyApprovalToken(request.approval_token, options);
    expect(claims.sub).toBe(request.id);
    expect(await reasonOf(verifyApprovalToken(request.approval_token, options))).toBe("already_used");
    // Without consume the check stays offline: the replay passes (what `consume` is for).
    const { consume: _online, ...offline } = options;
    await expect(verifyApprovalToken(request.approval_token, offline)).resolves.toBeDefined();
  });

  it("a token that fails offline is not consumed: wrong params → wrong_args, and the token still consumes afterwards", async () => {
    const h = await harness(cleanups);
    const client = clientFor(h);
    const { request } = await client.createRequest(SMALL);
    const base = {
      jwksUrl: client.jwksUrl,
      action: SMALL.action,
      audience: "support-bot",
      currentDate: new Date(h.clock.now()),
      consume: client,
    };
    expect(
      await reasonOf(verifyApprovalToken(request.approval_token, { ...base, params: { amount: 21 } })),
    ).toBe("wrong_args");
    await expect(
      verifyApprovalToken(request.approval_token, { ...base, params: SMALL.params }),
    ).resolves.toBeDefined();
  });

  it("re-issue: the client gets a fresh token; the old one → already_used, the new one passes once", async () => {
    const h = await harness(cleanups);
    const client = clientFor(h);
    const { request } = await client.createRequest(SMALL);
    const fresh = await client.reissueToken(request.id);
    expect(fresh.approval_token).not.toBe(request.approval_token);
    const options = {
      jwksUrl: client.jwksUrl,
      action: SMALL.action,
      params: SMALL.params,
      audience: "support-bot",
      currentDate: new Date(h.clock.now()),
      consume: client,
    };
    expect(await reasonOf(verifyApprovalToken(request.approval_token, options))).toBe("already_used");
    expect(await reasonOf(verifyApprovalToken(fresh.approval_token, options))).toBe("passed");
    // Used now: no further re-issue.
    const refused = await client.reissueToken(request.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CountersignApiError);
    expect((refused as CountersignApiError).code).toBe("token_used");
  });

  it("countersign unreachable for the check → consume_unavailable, never a pass", async () => {
    const h = await harness(cleanups);
    const client = clientFor(h);
    const { request } = await client.createRequest(SMALL);
    const jwks = (await (await fetch(client.jwksUrl)).json()) as JSONWebKeySet;
    const gone = new CountersignClient({
      baseUrl: "http://127.0.0.1:9",
      token: TOKENS.support,
      timeoutMs: 2000,
    });
    const reason = await reasonOf(
      verifyApprovalToken(request.approval_token, {
        jwks,
        action: SMALL.action,
        params: SMALL.params,
        audience: "support-bot",
        currentDate: new Date(h.clock.now()),
        consume: gone,
      }),
    );
    expect(reason).toBe("consume_unavailable");
  });
});
