// A tool gateway that refuses to run without a valid approval token: the refund API
// checks the token itself, so an agent that skipped countersign (or changed the
// amount after approval) is refused even if it holds the refund API's credentials.
import { type ApprovalClaims, ApprovalTokenError, verifyApprovalToken } from "@countersign/client";

export interface RefundParams {
  amount: number;
  currency: string;
  order_id: string;
}

export function createRefundGateway(options: { jwksUrl: string; agentId: string; now?: () => Date }) {
  return async function refund(
    approvalToken: string | undefined,
    params: RefundParams,
  ): Promise<ApprovalClaims> {
    const claims = await verifyApprovalToken(approvalToken, {
      jwksUrl: options.jwksUrl, // <countersign>/.well-known/jwks.json, fetched once and cached
      action: "refund.issue",
      params, // exactly what will be executed: a changed amount has another args_hash
      audience: options.agentId,
      ...(options.now ? { currentDate: options.now() } : {}),
    });
    // ... call the payment provider with `params` here ...
    return claims;
  };
}

export { ApprovalTokenError };
