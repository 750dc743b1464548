"""countersign's Python client: guard an agent's action behind a Slack approval, verify
approval tokens in a tool gateway, and verify the service's signed callbacks.

Standard-library HTTP; PyJWT and cryptography for tokens.
"""

from .canonical import args_hash, canonical_json
from .client import Countersign
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
    WebhookVerificationError,
)
from .guard import Approval, Guard, await_approval, guard_key
from .tokens import verify_approval_token
from .webhooks import verify_webhook

__version__ = "0.1.0"

__all__ = [
    "Approval",
    "ApprovalAlreadyUsed",
    "ApprovalCancelled",
    "ApprovalError",
    "ApprovalExpired",
    "ApprovalRejected",
    "ApprovalTokenError",
    "ChangesRequested",
    "Countersign",
    "CountersignApiError",
    "CountersignConnectionError",
    "CountersignError",
    "Guard",
    "WebhookVerificationError",
    "args_hash",
    "await_approval",
    "canonical_json",
    "guard_key",
    "verify_approval_token",
    "verify_webhook",
]
