// OpenAI Agents SDK: a tool with `needsApproval: true` pauses the run with an
// interruption; countersign decides it in Slack, and the run resumes with
// approve() or reject(). Typechecked against @openai/agents in CI.
import { awaitApproval, CountersignClient } from "@countersign/client";
import { Agent, type Model, run, tool } from "@openai/agents";
import { z } from "zod";

const defaultClient = new CountersignClient({
  baseUrl: process.env.COUNTERSIGN_URL ?? "http://localhost:3000",
  token: process.env.COUNTERSIGN_TOKEN ?? "demo-support-bot-token",
});

const issueRefund = tool({
  name: "issue_refund",
  description: "Refund an order to the customer's original payment method",
  parameters: z.object({ order_id: z.string(), amount: z.number(), currency: z.string() }),
  needsApproval: true,
  execute: async ({ order_id, amount, currency }) => `Refunded ${amount} ${currency} on order ${order_id}`,
});

export async function main(
  prompt = "Dana's blender broke after two days; refund order 48213 ($120).",
  countersign: CountersignClient = defaultClient,
  model?: Model, // default: the SDK's default OpenAI model
): Promise<unknown> {
  const agent = new Agent({
    name: "Support agent",
    instructions: "Resolve refund requests. Use issue_refund for refunds.",
    tools: [issueRefund],
    ...(model ? { model } : {}),
  });
  let result = await run(agent, prompt);
  while (result.interruptions.length > 0) {
    for (const interruption of result.interruptions) {
      const params = JSON.parse(interruption.arguments ?? "{}") as Record<string, unknown>;
      const decision = await awaitApproval(
        { action: "refund.issue", summary: `Refund via ${interruption.name}`, params },
        // One countersign request per tool call, even when this loop is retried.
        {
          client: countersign,
          stepKey: interruption.rawItem.type === "function_call" ? interruption.rawItem.callId : undefined,
        },
      );
      if (decision.approved) result.state.approve(interruption);
      else result.state.reject(interruption, { message: decision.error.message });
    }
    result = await run(agent, result.state);
  }
  return result.finalOutput;
}
