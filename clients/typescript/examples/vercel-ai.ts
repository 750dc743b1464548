// Vercel AI SDK: a tool with `needsApproval: true` makes generateText stop with
// tool-approval-request parts; countersign decides each in Slack, and the answers
// go back as tool-approval-response parts. Typechecked against `ai` in CI.
import { awaitApproval, CountersignClient } from "@countersign/client";
import { generateText, type LanguageModel, type ModelMessage, stepCountIs, tool } from "ai";
import { z } from "zod";

const defaultClient = new CountersignClient({
  baseUrl: process.env.COUNTERSIGN_URL ?? "http://localhost:3000",
  token: process.env.COUNTERSIGN_TOKEN ?? "demo-support-bot-token",
});

const tools = {
  issueRefund: tool({
    description: "Refund an order to the customer's original payment method",
    inputSchema: z.object({ order_id: z.string(), amount: z.number(), currency: z.string() }),
    needsApproval: true,
    execute: async ({ order_id, amount, currency }) => `Refunded ${amount} ${currency} on order ${order_id}`,
  }),
};

export async function main(
  model: LanguageModel,
  prompt = "Dana's blender broke after two days; refund order 48213 ($120).",
  countersign: CountersignClient = defaultClient,
): Promise<string> {
  const messages: ModelMessage[] = [{ role: "user", content: prompt }];
  for (;;) {
    const result = await generateText({ model, tools, messages, stopWhen: stepCountIs(5) });
    messages.push(...result.response.messages);
    const requests = result.content.filter((part) => part.type === "tool-approval-request");
    if (requests.length === 0) return result.text;
    const answers = [];
    for (const request of requests) {
      const decision = await awaitApproval(
        {
          action: "refund.issue",
          summary: `Refund requested by the agent (${request.toolCall.toolName})`,
          params: request.toolCall.input as Record<string, unknown>,
        },
        { client: countersign, stepKey: request.toolCall.toolCallId },
      );
      answers.push({
        type: "tool-approval-response" as const,
        approvalId: request.approvalId,
        approved: decision.approved,
        ...(decision.approved ? {} : { reason: decision.error.message }),
      });
    }
    messages.push({ role: "tool", content: answers });
  }
}
