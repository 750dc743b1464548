// LangGraph: the node that refunds calls interrupt() with the countersign request id;
// the driver waits for the decision and resumes with Command({ resume }). The node
// re-runs from the top on resume, so the request is created idempotently.
// Typechecked against @langchain/langgraph in CI.
import {
  awaitApproval,
  CountersignClient,
  type CreateRequestBody,
  verifyApprovalToken,
} from "@countersign/client";
import { Annotation, Command, END, interrupt, MemorySaver, START, StateGraph } from "@langchain/langgraph";

const defaultClient = new CountersignClient({
  baseUrl: process.env.COUNTERSIGN_URL ?? "http://localhost:3000",
  token: process.env.COUNTERSIGN_TOKEN ?? "demo-support-bot-token",
});

const State = Annotation.Root({
  refund: Annotation<{ order_id: string; amount: number; currency: string }>,
  result: Annotation<string>,
});

/** What the graph pauses with, and what the driver resumes it with. */
type Ask = CreateRequestBody;
type Answer =
  | { approved: true; token: string; params: Record<string, unknown> }
  | { approved: false; reason: string };

/** A one-node graph that refunds only with a verified countersign approval. */
export const refundGraph = (countersign: CountersignClient) =>
  new StateGraph(State)
    .addNode("issue_refund", async (state) => {
      const ask: Ask = {
        action: "refund.issue",
        summary: `Refund order ${state.refund.order_id}`,
        params: state.refund,
      };
      const answer = interrupt<Ask, Answer>(ask);
      if (!answer.approved) return { result: `Not refunded: ${answer.reason}` };
      // The node trusts the token, not the resume value: verify it against the params it executes.
      await verifyApprovalToken(answer.token, {
        jwksUrl: countersign.jwksUrl,
        action: "refund.issue",
        params: answer.params,
        audience: "support-bot",
      });
      return { result: `Refunded ${String(answer.params.amount)} ${String(answer.params.currency)}` };
    })
    .addEdge(START, "issue_refund")
    .addEdge("issue_refund", END)
    .compile({ checkpointer: new MemorySaver() });

export async function main(
  refund = { order_id: "48213", amount: 120, currency: "USD" },
  threadId = "ticket-48213",
  countersign: CountersignClient = defaultClient,
): Promise<string> {
  const graph = refundGraph(countersign);
  const config = { configurable: { thread_id: threadId } };
  let state = await graph.invoke({ refund }, config);
  for (;;) {
    const pending = (state as { __interrupt__?: { value: Ask }[] }).__interrupt__?.[0];
    if (!pending) break;
    const decision = await awaitApproval(pending.value, {
      client: countersign,
      stepKey: config.configurable.thread_id,
    });
    const answer: Answer = decision.approved
      ? { approved: true, token: decision.approvalToken, params: decision.params }
      : { approved: false, reason: decision.error.message };
    state = await graph.invoke(new Command({ resume: answer }), config);
  }
  return state.result;
}
