"""A small client for countersign's ``/v1`` agent API, on the standard library's urllib."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import CountersignApiError, CountersignConnectionError

if TYPE_CHECKING:
    from .guard import Guard

__all__ = ["Countersign"]


class Countersign:
    """countersign's agent API as one agent (its bearer token) sees it.

    >>> cs = Countersign("http://localhost:3000", token=os.environ["SUPPORT_BOT_TOKEN"])
    >>> request, replayed = cs.create_request({"action": "refund.issue", "summary": "…", "params": {...}})
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0, issuer: str = "countersign") -> None:
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not token:
            raise ValueError("token is required (the agent's bearer token from countersign's config)")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.issuer = issuer

    @property
    def jwks_url(self) -> str:
        """Where the service publishes its token-signing public keys (no auth)."""
        return f"{self.base_url}/.well-known/jwks.json"

    def create_request(self, body: dict[str, Any], *, idempotency_key: str | None = None) -> tuple[dict[str, Any], bool]:
        """``POST /v1/requests``. Returns (the request, replayed: an earlier call with the key made it)."""
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        status, request = self._call("POST", "/v1/requests", body=body, headers=headers)
        return request, status == 200

    def get_request(self, request_id: str, *, wait: int = 0) -> dict[str, Any]:
        """``GET /v1/requests/:id``, holding the answer up to ``wait`` seconds (0–60) while pending."""
        if not isinstance(wait, int) or isinstance(wait, bool) or not 0 <= wait <= 60:
            raise ValueError("wait must be a whole number of seconds from 0 to 60")
        query = f"?wait={wait}" if wait else ""
        return self._call("GET", f"/v1/requests/{_quote(request_id)}{query}", extra_timeout=wait)[1]

    def cancel_request(self, request_id: str, *, reason: str | None = None) -> dict[str, Any]:
        """``POST /v1/requests/:id/cancel``: pending → cancelled; otherwise a ``conflict`` error."""
        body = {} if reason is None else {"reason": reason}
        return self._call("POST", f"/v1/requests/{_quote(request_id)}/cancel", body=body)[1]

    def report_outcome(self, request_id: str, status: str, detail: str | None = None) -> dict[str, Any]:
        """``POST /v1/requests/:id/outcome`` (``succeeded`` or ``failed``), once, for an approved request."""
        body: dict[str, Any] = {"status": status}
        if detail is not None:
            body["detail"] = detail
        return self._call("POST", f"/v1/requests/{_quote(request_id)}/outcome", body=body)[1]

    def list_events(self, request_id: str) -> list[dict[str, Any]]:
        """``GET /v1/requests/:id/events``: the request's audit events in order."""
        return self._call("GET", f"/v1/requests/{_quote(request_id)}/events")[1]

    def consume_token(self, jti: str) -> None:
        """``POST /v1/tokens/consume``: succeeds the first time for a ``jti``, raises 409 after."""
        self._call("POST", "/v1/tokens/consume", body={"jti": jti})

    def guard(
        self,
        action: str,
        summary: str | Callable[[dict[str, Any]], str],
        *,
        params: dict[str, Any] | None = None,
        step_key: str | Callable[[dict[str, Any]], str] | None = None,
        idempotency_key: str | None = None,
        poll_seconds: int = 60,
        max_unreachable: float = 15 * 60,
        **fields: Any,
    ) -> Guard:
        """A guard for one action: ``with cs.guard(...) as approval:`` or ``@cs.guard(...)``.

        ``summary`` may hold ``{param}`` placeholders (or be a function of the params);
        ``fields`` are the create body's other fields (``target``, ``reason``, ``risk``,
        ``evidence``, ``run_id``, ``on_behalf_of``, ``callback_url``, ``ttl``, ``revises``).
        """
        from .guard import Guard

        body: dict[str, Any] = {"action": action, "summary": summary}
        body.update({name: value for name, value in fields.items() if value is not None})
        if params is not None:
            body["params"] = params
        return Guard(
            self,
            body,
            step_key=step_key,
            idempotency_key=idempotency_key,
            poll_seconds=poll_seconds,
            max_unreachable=max_unreachable,
        )

    def fetch_jwks(self) -> dict[str, Any]:
        """The service's JWKS document."""
        return fetch_json(self.jwks_url, timeout=self.timeout)

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        extra_timeout: float = 0,
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {self._token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout + extra_timeout) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            raise _api_error(error, method, path) from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise CountersignConnectionError(f"{method} {self.base_url}{path} failed: {reason}") from error


def fetch_json(url: str, *, timeout: float = 30.0) -> Any:
    """GET a JSON document (no auth); connection problems raise CountersignConnectionError."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _json(response.read())
    except urllib.error.HTTPError as error:
        raise _api_error(error, "GET", url) from None
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, ValueError) as error:
        raise CountersignConnectionError(f"GET {url} failed: {getattr(error, 'reason', error)}") from error


def _json(raw: bytes) -> Any:
    return None if raw == b"" else json.loads(raw.decode("utf-8"))


def _api_error(error: urllib.error.HTTPError, method: str, path: str) -> CountersignApiError:
    try:
        payload = json.loads(error.read().decode("utf-8"))
        details = payload.get("error") if isinstance(payload, dict) else None
    except (ValueError, UnicodeDecodeError):
        details = None
    details = details if isinstance(details, dict) else {}
    retry_after = error.headers.get("Retry-After") if error.headers else None
    try:
        retry = float(retry_after) if retry_after is not None else None
    except ValueError:
        retry = None
    return CountersignApiError(
        details.get("code") if isinstance(details.get("code"), str) else f"http_{error.code}",
        details.get("message") if isinstance(details.get("message"), str) else f"{method} {path} answered {error.code}",
        error.code,
        details.get("issues") if isinstance(details.get("issues"), list) else [],
        retry,
    )


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")
