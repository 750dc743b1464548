import base64
import hashlib
import hmac
import json
import time

import pytest

from countersign import WebhookVerificationError, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"support-bot-webhook-secret-32-bytes!").decode()
BODY = json.dumps({"type": "request.decided", "data": {"id": "req_1", "status": "approved"}}).encode()


def sign(body: bytes, message_id: str = "msg_1", timestamp: int | None = None, secret: str = SECRET):
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signature = base64.b64encode(hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{signature.decode()}"}


def test_a_signed_delivery_verifies_and_parses():
    assert verify_webhook(BODY, sign(BODY), SECRET)["data"]["status"] == "approved"
    # str body, header names in any case, several signatures (a rotated secret)
    headers = {k.title(): v for k, v in sign(BODY).items()}
    headers["Webhook-Signature"] = "v1,bm9wZQ== " + headers["Webhook-Signature"]
    assert verify_webhook(BODY.decode(), headers, SECRET)["type"] == "request.decided"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b, h: (b + b" ", h), "No matching signature"),
        (lambda b, h: (b, {**h, "webhook-id": "msg_2"}), "No matching signature"),
        (lambda b, h: (b, {**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")}), "No matching"),
        (lambda b, h: (b, {k: v for k, v in h.items() if k != "webhook-id"}), "Missing required headers"),
        (lambda b, h: (b, {**h, "webhook-timestamp": "12a"}), "Invalid Signature Headers"),
    ],
)
def test_tampering_is_refused(mutate, message):
    body, headers = mutate(BODY, sign(BODY))
    with pytest.raises(WebhookVerificationError, match=message):
        verify_webhook(body, headers, SECRET)


def test_old_and_future_timestamps_and_a_wrong_secret_are_refused():
    now = int(time.time())
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify_webhook(BODY, sign(BODY, timestamp=now - 301), SECRET)
    with pytest.raises(WebhookVerificationError, match="too new"):
        verify_webhook(BODY, sign(BODY, timestamp=now + 301), SECRET)
    assert verify_webhook(BODY, sign(BODY, timestamp=now - 1000), SECRET, now=now - 1000)
    other = "whsec_" + base64.b64encode(b"another-secret-of-thirty-two-b!!").decode()
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, sign(BODY), other)
