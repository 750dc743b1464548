"""Errors the package raises; every one is a CountersignError."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CountersignError",
    "CountersignApiError",
    "CountersignConnectionError",
    "ApprovalError",
    "ApprovalRejected",
    "ChangesRequested",
    "ApprovalExpired",
    "ApprovalCancelled",
    "ApprovalAlreadyUsed",
    "ApprovalTokenError",
    "WebhookVerificationError",
]


class CountersignError(Exception):
    """Base class of every error this package raises."""


class CountersignApiError(CountersignError):
    """The service answered with an error (CONTRACT §3's shape: code, message, issues)."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int,
        issues: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.issues = issues or []
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status >= 500 or self.status == 429


class CountersignConnectionError(CountersignError):
    """The service could not be reached or did not answer in time."""

    retryable = True


class ApprovalError(CountersignError):
    """The request ended without an approval (or the approval was already used): nothing ran."""

    def __init__(self, request: dict[str, Any], message: str | None = None) -> None:
        super().__init__(message or f"request {request.get('id')} was {request.get('status')}")
        self.request = request
        self.resolution: str | None = request.get("resolution")
        closing = _closing_decision(request)
        self.approver: dict[str, Any] | None = closing.get("approver") if closing else None
        self.comment: str | None = closing.get("comment") if closing else None


class ApprovalRejected(ApprovalError):
    """Rejected by a person or by a policy."""


class ChangesRequested(ApprovalError):
    """A reviewer asked for changes: revise and ask again with ``revises``."""


class ApprovalExpired(ApprovalError):
    """Nobody decided within the TTL."""


class ApprovalCancelled(ApprovalError):
    """Cancelled by the agent."""


class ApprovalAlreadyUsed(ApprovalError):
    """Approved, and its outcome is already reported: the action ran once. Use another step_key."""


class ApprovalTokenError(CountersignError):
    """An approval token that must not be honoured; ``reason`` says why.

    Reasons: missing, malformed, bad_signature, unknown_key, wrong_type, wrong_issuer,
    wrong_audience, wrong_action, wrong_args, wrong_request, expired, not_yet_valid,
    jwks_unavailable, already_used, consume_unavailable.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"approval token refused: {message}" if reason != "missing" else message)
        self.reason = reason


class WebhookVerificationError(CountersignError):
    """A callback whose signature, timestamp or body is not what countersign sends."""


def _closing_decision(request: dict[str, Any]) -> dict[str, Any] | None:
    decisions = request.get("decisions") or []
    rejects = [d for d in decisions if d.get("decision") == "reject"]
    if rejects:
        return rejects[-1]
    if request.get("status") == "approved" and decisions:
        return decisions[-1]
    return None
