"""Verifying countersign's callbacks, signed the Standard Webhooks way."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from .errors import WebhookVerificationError

__all__ = ["verify_webhook"]


def verify_webhook(
    payload: bytes | str,
    headers: Mapping[str, Any] | Any,
    secret: str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> dict[str, Any]:
    """Checks ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64
    HMAC-SHA256 of "id.timestamp.body">``, several space-separated allowed) with the agent's
    ``whsec_…`` secret and returns the parsed body. Pass the raw body exactly as received and
    the request's headers (a dict in any letter case, or an object with ``.get``).
    """
    message_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not message_id or not timestamp or not signatures:
        raise WebhookVerificationError("Missing required headers")
    if not re.fullmatch(r"[0-9]+", timestamp):
        raise WebhookVerificationError("Invalid Signature Headers")
    seconds = int(timestamp)
    current = int(time.time() if now is None else now)
    if current - seconds > tolerance:
        raise WebhookVerificationError("Message timestamp too old")
    if seconds > current + tolerance:
        raise WebhookVerificationError("Message timestamp too new")

    body = payload if isinstance(payload, bytes) else payload.encode("utf-8")
    try:
        key = base64.b64decode(secret[len("whsec_") :] if secret.startswith("whsec_") else secret, validate=True)
    except ValueError:
        raise WebhookVerificationError("Secret is not base64") from None
    if not key:
        raise WebhookVerificationError("Secret can't be empty")
    signed = message_id.encode("utf-8") + b"." + str(seconds).encode("ascii") + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for versioned in signatures.split(" "):
        version, _, signature = versioned.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode("utf-8"), expected):
            break
    else:
        raise WebhookVerificationError("No matching signature found")
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise WebhookVerificationError("Signed body is not JSON") from None
    if not isinstance(parsed, dict):
        raise WebhookVerificationError("Signed body is not a JSON object")
    return parsed


def _header(headers: Any, name: str) -> str | None:
    if isinstance(headers, Mapping):
        for key, value in headers.items():
            if isinstance(key, str) and key.lower() == name:
                return " ".join(value) if isinstance(value, (list, tuple)) else str(value)
        return None
    value = headers.get(name)  # http.client.HTTPMessage, email.message.Message: case-insensitive
    return None if value is None else str(value)
