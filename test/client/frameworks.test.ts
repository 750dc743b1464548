import { type Model, type ModelRequest, type ModelResponse, setTracingDisabled, Usage } from "@openai/agents";
import { MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { main as langgraphRefund } from "../../clients/typescript/examples/langgraph.ts";
import { main as openaiRefund } from "../../clients/typescript/examples/openai-agents.ts";
import { main as vercelRefund } from "../../clients/typescript/examples/vercel-ai.ts";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import type { Harness } from "../support/harness.ts";
import { clientFor, harness, storedRequests } from "./helpers.ts";

/**
 * The README's framework examples run for real against the service: LangGraph needs no
 * model; the Vercel AI SDK one gets the SDK's own mock model (it asks for the tool once,
 * then writes whatever the tool answered). The clock is real time, since the examples
 * verify tokens against the system clock.
 */
const cleanups = useCleanups();

/** Approves (or rejects) the next request that reaches Slack. */
async function decideNext(h: Harness, decision: "approve" | "reject"): Promise<string> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const posted = h.slack.callsTo("chat.postMessage").map((c) => c.args);
    const last = posted.at(-1) as { blocks?: unknown } | undefined;
    const id = /"value":"(req_[A-Za-z0-9_-]+)"/.exec(JSON.stringify(last?.blocks ?? ""))?.[1];
    if (id && (await h.service.deps.store.getRequest(id))?.slackTs) {
      if (decision === "approve") await h.click("U0LEAD1", "approve", id);
      else {
        await h.click("U0LEAD2", "reject", id);
        await h.submitReject("U0LEAD2", id, "Replacement already shipped");
      }
      return id;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("no request reached Slack");
}

function refundModel() {
  return new MockLanguageModelV4({
    doGenerate: async (options) => {
      const toolResult = options.prompt
        .flatMap((m) => (m.role === "tool" ? m.content : []))
        .find((p) => p.type === "tool-result");
      const usage = {
        inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
        outputTokens: { total: 1, text: 1, reasoning: 0 },
      };
      if (toolResult) {
        return {
          content: [{ type: "text", text: `tool said: ${JSON.stringify(toolResult.output)}` }],
          finishReason: { unified: "stop", raw: "stop" },
          usage,
          warnings: [],
        };
      }
      return {
        content: [
          {
            type: "tool-call",
            toolCallId: "call_1",
            toolName: "issueRefund",
            input: JSON.stringify({ order_id: "48213", amount: 120, currency: "USD" }),
          },
        ],
        finishReason: { unified: "tool-calls", raw: "tool_calls" },
        usage,
        warnings: [],
      };
    },
  });
}

/** An Agents SDK model that calls issue_refund once, then repeats what the tool (or the refusal) said. */
class RefundModel implements Model {
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const items = typeof request.input === "string" ? [] : request.input;
    const result = items.find((item) => item.type === "function_call_result");
    if (result) {
      return {
        usage: new Usage(),
        output: [
          {
            type: "message",
            role: "assistant",
            status: "completed",
            content: [{ type: "output_text", text: `tool said: ${JSON.stringify(result.output)}` }],
          },
        ],
      };
    }
    return {
      usage: new Usage(),
      output: [
        {
          type: "function_call",
          callId: "call_1",
          name: "issue_refund",
          status: "completed",
          arguments: JSON.stringify({ order_id: "48213", amount: 120, currency: "USD" }),
        },
      ],
    };
  }
  // biome-ignore lint/correctness/useYield: the examples never stream
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error("not streamed in these tests");
  }
}

describe("framework examples against the real service", () => {
  it("LangGraph: interrupt() → approved in Slack → resumed → the node verifies the token and refunds", async () => {
    const h = await harness(cleanups, { clock: new FakeClock(Date.now()) });
    const running = langgraphRefund({ order_id: "48213", amount: 120, currency: "USD" }, "t-1", clientFor(h));
    await decideNext(h, "approve");
    await expect(running).resolves.toBe("Refunded 120 USD");
    expect(await storedRequests(h)).toBe(1);
  });

  it("LangGraph: rejected in Slack → resumed with the reason, nothing refunded", async () => {
    const h = await harness(cleanups, { clock: new FakeClock(Date.now()) });
    const running = langgraphRefund({ order_id: "48213", amount: 120, currency: "USD" }, "t-2", clientFor(h));
    await decideNext(h, "reject");
    await expect(running).resolves.toMatch(/^Not refunded: .*Replacement already shipped/);
  });

  it("Vercel AI SDK: needsApproval → tool-approval-request → approved in Slack → the tool runs", async () => {
    const h = await harness(cleanups, { clock: new FakeClock(Date.now()) });
    const running = vercelRefund(refundModel(), "refund 48213", clientFor(h));
    await decideNext(h, "approve");
    await expect(running).resolves.toContain("Refunded 120 USD on order 48213");
  });

  it("Vercel AI SDK: rejected in Slack → tool-approval-response denied → the tool never runs", async () => {
    const h = await harness(cleanups, { clock: new FakeClock(Date.now()) });
    const running = vercelRefund(refundModel(), "refund 48213", clientFor(h));
    await decideNext(h, "reject");
    const text = await running;
    expect(text).not.toContain("Refunded");
    expect(text).toContain("Replacement already shipped");
  });

  it("OpenAI Agents SDK: needsApproval interruption → approved in Slack → state.approve → the tool runs", async () => {
    setTracingDisabled(true);
    const h = await harness(cleanups, { clock: new FakeClock(Date.now()) });
    const running = openaiRefund("refund 48213", clientFor(h), new RefundModel());
    await decideNext(h, "approve");
    await expect(running).resolves.toContain("Refunded 120 USD on order 48213");
  });

  it("OpenAI Agents SDK: rejected in Slack → state.reject with the reason → the tool never runs", async () => {
    setTracingDisabled(true);
    const h = await harness(cleanups, { clock: new FakeClock(Date.now()) });
    const running = openaiRefund("refund 48213", clientFor(h), new RefundModel());
    await decideNext(h, "reject");
    const output = String(await running);
    expect(output).not.toContain("Refunded");
    expect(output).toContain("Replacement already shipped");
  });
});
