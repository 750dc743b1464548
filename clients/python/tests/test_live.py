"""Against the real service (started by test/client/python.test.ts) with a fake Slack."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import pathlib
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from countersign import (
    ApprovalAlreadyUsed,
    ApprovalRejected,
    ApprovalTokenError,
    CountersignApiError,
    verify_approval_token,
    verify_webhook,
)


def refund(amount: float, **extra):
    # A fresh order id per test: the same body twice is the same request (idempotent).
    return {"order_id": uuid.uuid4().hex[:8], "amount": amount, "currency": "USD", **extra}


def test_guard_as_context_manager_runs_once_approved_and_reports_succeeded(live):
    cs = live.client()
    params = refund(75.0)
    person = live.decide_next("approve", user="U0LEAD1")
    with cs.guard(action="refund.issue", summary="Refund {amount} {currency}", params=params) as approval:
        ran = dict(approval.params)
    person.join(10)
    assert ran == {**params, "amount": 75}
    assert approval.claims["approvers"] == ["U0LEAD1"]
    stored = cs.get_request(approval.request_id)
    assert stored["outcome"]["status"] == "succeeded"
    assert stored["summary"] == "Refund 75.0 USD"
    # The same step again: the approval was used, it does not run twice.
    with pytest.raises(ApprovalAlreadyUsed):
        with cs.guard(action="refund.issue", summary="Refund {amount} {currency}", params=params):
            pytest.fail("ran twice")


def test_decorator_runs_with_the_approvers_edited_params(live):
    cs = live.client()
    calls = []

    @cs.guard(action="refund.issue", summary="Refund {amount} on order {order_id}")
    def issue_refund(order_id: str, amount: float, currency: str = "USD"):
        calls.append((order_id, amount, currency))
        return "done"

    order = uuid.uuid4().hex[:8]
    person = live.decide_next("edit", user="U0LEAD2", params={"order_id": order, "amount": 60, "currency": "USD"})
    assert issue_refund(order, 90.0) == "done"
    person.join(10)
    assert calls == [(order, 60, "USD")]


def test_rejected_raises_with_approver_and_comment_and_nothing_runs(live):
    cs = live.client()
    person = live.decide_next("reject", user="U0LEAD2", reason="Outside the 30-day window")

    @cs.guard(action="refund.issue", summary="Refund {amount}")
    def issue_refund(order_id: str, amount: float):
        pytest.fail("must not run")

    with pytest.raises(ApprovalRejected) as refused:
        issue_refund(uuid.uuid4().hex[:8], 120.0)
    person.join(10)
    assert refused.value.comment == "Outside the 30-day window"
    assert refused.value.approver["slack_user_id"] == "U0LEAD2"
    assert refused.value.resolution == "rejected_by_human"


def test_approved_by_policy_runs_at_once_and_a_failure_is_reported_failed(live):
    cs = live.client()
    params = refund(30.0)
    with pytest.raises(RuntimeError, match="payment provider down"):
        with cs.guard(action="refund.issue", summary="Small refund", params=params) as approval:
            assert approval.request["resolution"] == "approved_by_policy"
            raise RuntimeError("payment provider down")
    stored = cs.get_request(approval.request_id)
    assert stored["outcome"] == {**stored["outcome"], "status": "failed", "detail": "payment provider down"}


def test_async_tools_are_guarded_too(live):
    cs = live.client()

    @cs.guard(action="refund.issue", summary="Refund {amount}")
    async def issue_refund(order_id: str, amount: float):
        await asyncio.sleep(0)
        return amount

    assert asyncio.run(issue_refund(uuid.uuid4().hex[:8], 25.0)) == 25


def test_verify_approval_token_against_the_service_jwks_with_python_floats(live):
    cs = live.client()
    params = {"order_id": uuid.uuid4().hex[:8], "amount": 30.0, "currency": "USD", "lines": [{"qty": 1, "price": 30.0}]}
    request, _ = cs.create_request({"action": "refund.issue", "summary": "Small refund", "params": params})
    assert request["status"] == "approved"
    claims = verify_approval_token(
        request["approval_token"], jwks_url=cs.jwks_url, action="refund.issue", params=params, audience="support-bot"
    )
    assert claims["args_hash"] == request["args_hash"]
    with pytest.raises(ApprovalTokenError) as refused:
        verify_approval_token(
            request["approval_token"],
            jwks=cs.fetch_jwks(),
            action="refund.issue",
            params={**params, "amount": 31.0},
            audience="support-bot",
        )
    assert refused.value.reason == "wrong_args"


def test_online_single_use_check_first_caller_wins_a_replay_is_refused(live):
    cs = live.client()
    params = refund(20.0)
    request, _ = cs.create_request({"action": "refund.issue", "summary": "Small refund", "params": params})
    options = dict(jwks_url=cs.jwks_url, action="refund.issue", params=params, audience="support-bot", consume=cs)
    claims = verify_approval_token(request["approval_token"], **options)
    with pytest.raises(ApprovalTokenError) as replayed:
        verify_approval_token(request["approval_token"], **options)
    assert replayed.value.reason == "already_used"
    assert claims["jti"] in str(replayed.value) and "token_used" in str(replayed.value)
    # Offline verification alone still passes: the single-use check is opt-in.
    assert verify_approval_token(request["approval_token"], **{**options, "consume": None})


def test_a_real_callback_verifies_and_a_tampered_one_does_not(live):
    deliveries = []
    arrived = threading.Event()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            deliveries.append((self.rfile.read(int(self.headers["Content-Length"])), self.headers))
            self.send_response(204)
            self.end_headers()
            arrived.set()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cs = live.client()
        body = {
            "action": "refund.issue",
            "summary": "Small refund",
            "params": refund(10.0),
            "callback_url": f"http://127.0.0.1:{server.server_port}/hook",
        }
        request, _ = cs.create_request(body)
        assert arrived.wait(20), "no callback arrived"
    finally:
        server.shutdown()
    raw, headers = deliveries[0]
    event = verify_webhook(raw, headers, live.webhook_secret)
    assert event["type"] == "request.decided"
    assert event["data"]["id"] == request["id"]
    with pytest.raises(Exception):
        verify_webhook(raw.replace(b"approved", b"rejected"), headers, live.webhook_secret)


def test_bad_input_is_a_clear_api_error_naming_the_field(live):
    cs = live.client()
    with pytest.raises(CountersignApiError) as refused:
        cs.create_request({"action": "refund.issue", "summary": "no params"})
    assert refused.value.status == 400
    assert refused.value.code == "invalid_request"
    assert any(issue["path"] == "params" for issue in refused.value.issues)


def test_the_langgraph_openai_agents_style_example_runs(live):
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "agent_tools.py"
    spec = importlib.util.spec_from_file_location("agent_tools", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    cs = live.client()
    people = [live.decide_next("approve", user="U0LEAD1"), live.decide_next("approve", user="U0LEAD2")]
    transcript = example.run_agent(cs)
    for person in people:
        person.join(10)
    assert transcript[0] == "lookup_order → total 120.0"
    assert transcript[1] == "issue_refund → refunded 75 USD on order 48213"
    assert transcript[2] == "refund node → gateway refunded 60 USD"
    assert [entry["amount"] for entry in example.LEDGER] == [75, 60]
    print(json.dumps(transcript))
