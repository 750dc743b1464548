"""``guard``: run an action only after a verified approval, then report how it went.

As a context manager::

    with cs.guard(action="refund.issue", summary="Refund $75 to Dana", params={"amount": 75}) as approval:
        issue_refund(**approval.params)      # the approved params (the approver's edit, if any)

As a decorator (the call's arguments are the params)::

    @cs.guard(action="refund.issue", summary="Refund {amount} {currency} on order {order_id}")
    def issue_refund(order_id: str, amount: float, currency: str = "USD") -> str: ...

Either way the request is created idempotently (a retried step finds the request it
already made), waited on however long its TTL is, and its token verified against the
service's JWKS before anything runs; a rejection, expiry, cancellation or request for
changes raises an ApprovalError subclass and nothing runs; afterwards the outcome
(``succeeded``, or ``failed`` with the exception's message) is reported.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import random
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .canonical import canonical_json
from .errors import (
    ApprovalAlreadyUsed,
    ApprovalCancelled,
    ApprovalError,
    ApprovalExpired,
    ApprovalRejected,
    ApprovalTokenError,
    ChangesRequested,
    CountersignApiError,
    CountersignConnectionError,
    CountersignError,
)
from .tokens import verify_approval_token

if TYPE_CHECKING:
    from .client import Countersign

__all__ = ["Approval", "Guard", "await_approval", "guard_key"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Approval:
    """A verified approval: execute ``params`` (the approver's edited ones when present)."""

    request: dict[str, Any]
    params: dict[str, Any]
    token: str
    claims: dict[str, Any]

    @property
    def request_id(self) -> str:
        return self.request["id"]


def guard_key(body: Mapping[str, Any], step_key: str | None = None) -> str:
    """The Idempotency-Key guard derives: the same as the TypeScript client's guardKey()."""
    digest = hashlib.sha256(canonical_json({"request": body, "step": step_key}).encode("utf-8")).hexdigest()
    return f"guard-{digest}"


def await_approval(
    client: Countersign,
    body: Mapping[str, Any],
    *,
    step_key: str | None = None,
    idempotency_key: str | None = None,
    poll_seconds: int = 60,
    max_unreachable: float = 15 * 60,
    now: Callable[[], float] | None = None,
) -> Approval:
    """The first half of guard: create (idempotently), wait, verify. Runs nothing.

    Raises an ApprovalError subclass when the request ends without approval, ApprovalTokenError
    when the token does not verify, and the connection error when the service stays
    unreachable (or 5xx) for ``max_unreachable`` seconds.
    """
    if not isinstance(poll_seconds, int) or not 1 <= poll_seconds <= 60:
        raise ValueError("poll_seconds must be a whole number from 1 to 60")
    retry = _Retrier(max_unreachable)
    key = idempotency_key or guard_key(body, step_key)
    request, _ = retry(lambda: client.create_request(dict(body), idempotency_key=key))
    while request["status"] == "pending":
        request_id = request["id"]
        request = retry(lambda: client.get_request(request_id, wait=poll_seconds))

    if request["status"] != "approved":
        raise refusal(request)
    if request.get("outcome") is not None:
        raise ApprovalAlreadyUsed(
            request,
            f"request {request['id']} was approved and its outcome ({request['outcome'].get('status')}) is "
            "already reported: the action ran once. Use another step_key to ask again.",
        )
    if request["action"] != body.get("action"):
        raise ApprovalTokenError("wrong_action", f"request {request['id']} is for {request['action']!r}, not {body.get('action')!r}")
    edited = request.get("approved_params")
    params = edited if edited is not None else request["params"]
    claims = verify_approval_token(
        request.get("approval_token"),
        jwks_url=client.jwks_url,
        action=request["action"],
        params=params,
        audience=request["agent"],
        request_id=request["id"],
        issuer=client.issuer,
        **({"now": now()} if now else {}),
    )
    return Approval(request=request, params=params, token=request["approval_token"], claims=claims)


def refusal(request: dict[str, Any]) -> ApprovalError:
    """The typed error for a request that ended without approval."""
    comment = _comment(request)
    if request.get("resolution") == "changes_requested":
        return ChangesRequested(request, f"changes requested on {request['id']}{comment}")
    status = request.get("status")
    if status == "rejected":
        return ApprovalRejected(request, f"request {request['id']} was rejected ({request.get('resolution')}){comment}")
    if status == "expired":
        return ApprovalExpired(request, f"request {request['id']} expired before anyone decided")
    if status == "cancelled":
        return ApprovalCancelled(request, f"request {request['id']} was cancelled")
    return ApprovalError(request)


class Guard:
    """What ``Countersign.guard(...)`` returns: a context manager, and a decorator."""

    def __init__(
        self,
        client: Countersign,
        body: dict[str, Any],
        *,
        step_key: str | Callable[[dict[str, Any]], str] | None = None,
        idempotency_key: str | None = None,
        poll_seconds: int = 60,
        max_unreachable: float = 15 * 60,
    ) -> None:
        if not body.get("action"):
            raise ValueError("guard needs action=")
        if body.get("summary") is None:
            raise ValueError("guard needs summary=")
        self._client = client
        self._body = body
        self._step_key = step_key
        self._idempotency_key = idempotency_key
        self._poll_seconds = poll_seconds
        self._max_unreachable = max_unreachable
        self.approval: Approval | None = None

    # -- context manager -------------------------------------------------------------

    def __enter__(self) -> Approval:
        if "params" not in self._body:
            raise ValueError("as a context manager, guard needs params= (as a decorator it takes the call's arguments)")
        if self.approval is not None:
            raise RuntimeError("this guard was already used; make a new one per action")
        step = self._step_key(self._body["params"]) if callable(self._step_key) else self._step_key
        body = {**self._body, "summary": _summary(self._body["summary"], self._body["params"])}
        self.approval = await_approval(
            self._client,
            body,
            step_key=step,
            idempotency_key=self._idempotency_key,
            poll_seconds=self._poll_seconds,
            max_unreachable=self._max_unreachable,
        )
        return self.approval

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        approval = self.approval
        if approval is None:
            return
        if exc is None:
            self._report(approval, "succeeded", None)
        else:
            self._report(approval, "failed", (str(exc) or exc_type.__name__)[:2000])

    async def __aenter__(self) -> Approval:
        return await asyncio.to_thread(self.__enter__)

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        await asyncio.to_thread(self.__exit__, exc_type, exc, tb)

    # -- decorator -------------------------------------------------------------------

    def __call__(self, fn: F) -> F:
        signature = inspect.signature(fn)

        def spec(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Guard:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            params: dict[str, Any] = {}
            for name, value in bound.arguments.items():
                kind = signature.parameters[name].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    params.update(value)
                elif kind is inspect.Parameter.VAR_POSITIONAL:
                    if value:
                        raise TypeError("a guarded function's *args have no name to approve; use keywords")
                else:
                    params[name] = value
            return Guard(
                self._client,
                {**self._body, "params": params},
                step_key=self._step_key,
                idempotency_key=self._idempotency_key,
                poll_seconds=self._poll_seconds,
                max_unreachable=self._max_unreachable,
            )

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with spec(args, kwargs) as approval:
                    return await fn(**approval.params)

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with spec(args, kwargs) as approval:
                return fn(**approval.params)

        return run  # type: ignore[return-value]

    def _report(self, approval: Approval, status: str, detail: str | None) -> None:
        try:
            _Retrier(60)(lambda: self._client.report_outcome(approval.request_id, status, detail))
        except CountersignError as error:
            # The action's own result stands; say so loudly rather than hide it.
            warnings.warn(f"countersign: could not report the outcome of {approval.request_id}: {error}", stacklevel=3)


class _Retrier:
    """Retries connection failures, 5xx and 429 with capped backoff until they have lasted ``limit`` seconds."""

    def __init__(self, limit: float) -> None:
        self._limit = limit

    def __call__(self, call: Callable[[], Any]) -> Any:
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return call()
            except (CountersignApiError, CountersignConnectionError) as error:
                if not error.retryable or time.monotonic() - started > self._limit:
                    raise
                retry_after = error.retry_after if isinstance(error, CountersignApiError) else None
                backoff = min(5.0, 0.1 * 2**attempt) * (0.5 + random.random() / 2)
                time.sleep(max(retry_after or 0, backoff))
                attempt += 1


def _summary(summary: str | Callable[[dict[str, Any]], str], params: dict[str, Any]) -> str:
    if callable(summary):
        return summary(params)
    try:
        return summary.format(**params)
    except (KeyError, IndexError, ValueError):
        return summary


def _comment(request: dict[str, Any]) -> str:
    rejects = [d for d in request.get("decisions") or [] if d.get("decision") == "reject"]
    if not rejects:
        return ""
    last = rejects[-1]
    approver = last.get("approver") or {}
    who = approver.get("name") or approver.get("slack_user_id")
    return f" by {who}: {last['comment']}" if last.get("comment") else f" by {who}"
