"""An agent's tools behind countersign, the way LangGraph and OpenAI Agents wire tools.

Plain Python, no framework: a tool registry (OpenAI Agents' ``@function_tool``), a
graph-like loop whose refund node waits for a person like LangGraph's ``interrupt()``,
and a scripted "model" standing in for the LLM. The same two patterns drop into those
frameworks unchanged:

* ``@cs.guard(...)`` on the tool function: the tool asks, waits, runs only when approved
  (with the approver's edits), and reports the outcome. Use it where the framework calls
  your function (an OpenAI Agents function tool, a LangGraph ToolNode).
* ``await_approval(...)`` in one step and the action in the next: for frameworks that
  approve and execute separately (LangGraph interrupt/resume, OpenAI Agents
  ``needs_approval``). The approval's token goes with the action to the gateway, which
  checks it with ``verify_approval_token``.

Run against countersign (e.g. ``npm run demo`` and approve in the simulator)::

    COUNTERSIGN_URL=http://localhost:3000 COUNTERSIGN_TOKEN=demo-support-bot-token \\
      python3 clients/python/examples/agent_tools.py
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from countersign import (  # noqa: E402
    ApprovalError,
    Countersign,
    await_approval,
    verify_approval_token,
)

TOOLS: dict[str, Callable[..., Any]] = {}
LEDGER: list[dict[str, Any]] = []  # what the "payment system" actually did


def function_tool(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Registers a tool the model may call (OpenAI Agents' @function_tool, LangChain's @tool)."""
    TOOLS[fn.__name__] = fn
    return fn


def build_tools(cs: Countersign) -> None:
    @function_tool
    def lookup_order(order_id: str) -> dict[str, Any]:
        """Read-only: no approval needed."""
        return {"order_id": order_id, "total": 120.0, "customer": "Dana Ruiz"}

    @function_tool
    @cs.guard(
        action="refund.issue",
        summary="Refund {amount} {currency} on order {order_id}",
        reason="The customer reports a defective blender",
        run_id="example-run",
    )
    def issue_refund(order_id: str, amount: float, currency: str = "USD") -> str:
        """Moves money: runs only after a person approved these exact arguments."""
        LEDGER.append({"order_id": order_id, "amount": amount, "currency": currency})
        return f"refunded {amount} {currency} on order {order_id}"


def payment_gateway(cs: Countersign, action: str, params: dict[str, Any], token: str) -> str:
    """The other side: a gateway that executes only with a token covering these params."""
    verify_approval_token(token, jwks_url=cs.jwks_url, action=action, params=params, audience="support-bot")
    LEDGER.append({**params, "via": "gateway"})
    return f"gateway refunded {params['amount']} {params['currency']}"


def run_agent(cs: Countersign) -> list[str]:
    """A scripted model: look the order up, refund part of it with a tool, then refund by interrupt/resume."""
    build_tools(cs)
    transcript = []
    order = TOOLS["lookup_order"](order_id="48213")
    transcript.append(f"lookup_order → total {order['total']}")
    try:
        transcript.append("issue_refund → " + TOOLS["issue_refund"](order_id="48213", amount=75.0, currency="USD"))
    except ApprovalError as refused:
        # The model sees why, and can revise (resolution changes_requested) or give up.
        transcript.append(f"issue_refund → not approved ({refused.resolution}): {refused.comment}")

    # LangGraph style: node 1 interrupts for approval, node 2 resumes and executes.
    body = {
        "action": "refund.issue",
        "summary": "Refund the shipping fee on order 48213",
        "params": {"order_id": "48213", "amount": 60.0, "currency": "USD"},
    }
    try:
        approval = await_approval(cs, body, step_key="shipping-fee")
        transcript.append("refund node → " + payment_gateway(cs, "refund.issue", approval.params, approval.token))
        cs.report_outcome(approval.request_id, "succeeded")
    except ApprovalError as refused:
        transcript.append(f"refund node → not approved ({refused.resolution})")
    return transcript


if __name__ == "__main__":
    client = Countersign(os.environ["COUNTERSIGN_URL"], os.environ["COUNTERSIGN_TOKEN"])
    for line in run_agent(client):
        print(line)
