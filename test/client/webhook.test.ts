import { createHmac } from "node:crypto";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import {
  verifyApprovalToken,
  verifyWebhook,
  WebhookVerificationError,
} from "../../clients/typescript/src/index.ts";
import { useCleanups } from "../support/cleanups.ts";
import { SECRETS } from "../support/config.ts";
import { eventually } from "../support/harness.ts";
import { startReceiver } from "../time/helpers.ts";
import { harness, REFUND } from "./helpers.ts";

const cleanups = useCleanups();
const NOW = Date.parse("2026-11-22T10:00:00.000Z");

/** What the standardwebhooks package says, with its clock at `now`: the parsed body or "refused". */
function reference(secret: string, body: string, headers: Record<string, string>, now: number): unknown {
  const spy = vi.spyOn(Date, "now").mockReturnValue(now);
  try {
    return new Webhook(secret).verify(body, headers);
  } catch {
    return "refused";
  } finally {
    spy.mockRestore();
  }
}

function ours(secret: string, body: string, headers: Record<string, string>, now: number): unknown {
  try {
    return verifyWebhook(body, headers, secret, { now });
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return "refused";
  }
}

function signed(secret: string, id: string, ts: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
}

describe("verifyWebhook agrees with the standardwebhooks package", () => {
  it("on valid, tampered, stale, future and multi-signature deliveries (fast-check)", () => {
    const secret = SECRETS.support;
    const other = `whsec_${Buffer.from("another-secret-of-32-bytes-long!").toString("base64")}`;
    fc.assert(
      fc.property(
        fc.record({
          id: fc.stringMatching(/^msg_[A-Za-z0-9]{1,20}$/),
          skew: fc.integer({ min: -400, max: 400 }),
          body: fc.jsonValue().map((v) => JSON.stringify({ type: "request.decided", data: v })),
          mode: fc.constantFrom("valid", "other-secret", "tampered-body", "extra-sig", "v2-only", "no-id"),
        }),
        ({ id, skew, body, mode }) => {
          const ts = Math.floor(NOW / 1000) + skew;
          const headers: Record<string, string> = {
            "webhook-id": id,
            "webhook-timestamp": String(ts),
            "webhook-signature": signed(mode === "other-secret" ? other : secret, id, ts, body),
          };
          if (mode === "extra-sig") headers["webhook-signature"] = `v1,AAAA ${headers["webhook-signature"]}`;
          if (mode === "v2-only")
            headers["webhook-signature"] = headers["webhook-signature"]!.replace("v1,", "v2,");
          if (mode === "no-id") delete headers["webhook-id"];
          const sent = mode === "tampered-body" ? `${body} ` : body;
          expect(ours(secret, sent, headers, NOW)).toEqual(reference(secret, sent, headers, NOW));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("verifyWebhook on a real callback delivery", () => {
  it("request decided → countersign POSTs the callback → verifyWebhook returns request.decided with the resource", async () => {
    const h = await harness(cleanups);
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const created = await h.create({ ...REFUND, callback_url: receiver.url });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    await eventually(async () => (await h.service.deps.store.getRequest(id))?.slackTs);
    await h.click("U0LEAD1", "approve", id);
    const [delivery] = await receiver.waitForDeliveries(1);

    const event = verifyWebhook(delivery!.body, delivery!.headers, SECRETS.support, { now: h.clock.now() });
    expect(event.type).toBe("request.decided");
    expect(event.data).toMatchObject({ id, status: "approved", resolution: "approved_by_humans" });
    // The callback's token is the gate's token: it verifies like the resource's.
    await expect(
      verifyApprovalToken(event.data.approval_token, {
        jwksUrl: `${h.url}/.well-known/jwks.json`,
        action: "refund.issue",
        params: REFUND.params,
        audience: "support-bot",
        currentDate: new Date(h.clock.now()),
      }),
    ).resolves.toMatchObject({ sub: id });
    expect(() => verifyWebhook(delivery!.body, delivery!.headers, SECRETS.support)).toThrow(/too old/);
    expect(() =>
      verifyWebhook(
        delivery!.body.replace("approved_by_humans", "approved_by_policy"),
        delivery!.headers,
        SECRETS.support,
        {
          now: h.clock.now(),
        },
      ),
    ).toThrow(WebhookVerificationError);
    const headers = new Headers(delivery!.headers);
    expect(
      verifyWebhook(Buffer.from(delivery!.body), headers, SECRETS.support, { now: h.clock.now() }).data.id,
    ).toBe(id);
  });
});
