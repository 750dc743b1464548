"""verify_approval_token offline, with keys made here (the live tests use the service's)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from countersign import ApprovalTokenError, Countersign, args_hash, verify_approval_token

KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()
JWKS = {"keys": [{**json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(KEY.public_key())), "kid": "k1", "alg": "EdDSA", "use": "sig"}]}
PARAMS = {"amount": 75.0, "currency": "USD", "order_id": "48213"}


def token(key=KEY, kid="k1", typ="countersign-approval+jwt", alg="EdDSA", **overrides):
    now = int(time.time())
    claims = {
        "iss": "countersign",
        "sub": "req_1",
        "aud": "support-bot",
        "act": "refund.issue",
        "args_hash": args_hash({"amount": 75, "currency": "USD", "order_id": "48213"}),
        "iat": now,
        "exp": now + 900,
        "jti": "tok_1",
        "policy": "medium-refunds",
        "approvers": ["U0LEAD1"],
        **overrides,
    }
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": typ})


def verify(tok, **options):
    return verify_approval_token(
        tok, **{"jwks": JWKS, "action": "refund.issue", "params": PARAMS, "audience": "support-bot", **options}
    )


def test_a_good_token_verifies_with_params_written_as_python_floats():
    claims = verify(token(), request_id="req_1")
    assert claims["sub"] == "req_1" and claims["approvers"] == ["U0LEAD1"]


@pytest.mark.parametrize(
    ("tok", "options", "reason"),
    [
        (None, {}, "missing"),
        ("not.a-token", {}, "malformed"),
        (token(key=OTHER), {}, "bad_signature"),
        (token(kid="k2"), {}, "unknown_key"),
        (token(typ="JWT"), {}, "wrong_type"),
        (token(iss="someone-else"), {}, "wrong_issuer"),
        (token(aud="deploy-bot"), {}, "wrong_audience"),
        (token(exp=int(time.time()) - 60), {}, "expired"),
        (token(nbf=int(time.time()) + 600), {}, "not_yet_valid"),
        (token(act="refund.void"), {}, "wrong_action"),
        (token(), {"params": {**PARAMS, "amount": 750}}, "wrong_args"),
        (token(), {"request_id": "req_2"}, "wrong_request"),
        (token(), {"jwks": {"keys": []}}, "unknown_key"),
    ],
)
def test_each_mismatch_is_refused_with_its_reason(tok, options, reason):
    with pytest.raises(ApprovalTokenError) as refused:
        verify(tok, **options)
    assert refused.value.reason == reason


def test_alg_none_and_hs256_are_refused_before_any_key_is_used():
    header_none = jwt.utils.base64url_encode(b'{"alg":"none","typ":"countersign-approval+jwt","kid":"k1"}').decode()
    payload = token().split(".")[1]
    with pytest.raises(ApprovalTokenError) as refused:
        verify(f"{header_none}.{payload}.")
    assert refused.value.reason == "wrong_type"
    with pytest.raises(ApprovalTokenError) as refused:
        verify(token(key="a-shared-secret-of-enough-length", alg="HS256"))
    assert refused.value.reason == "wrong_type"


def test_an_unreachable_jwks_url_never_passes():
    with pytest.raises(ApprovalTokenError) as refused:
        verify(token(), jwks=None, jwks_url="http://127.0.0.1:1/.well-known/jwks.json")
    assert refused.value.reason == "jwks_unavailable"


class _Consume(BaseHTTPRequestHandler):
    spent: set = set()
    status_when_missing = None

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/tokens/consume" or self.status_when_missing:
            self._answer(404, {"error": {"code": "not_found", "message": "no such route"}})
        elif body["jti"] in self.spent:
            self._answer(409, {"error": {"code": "token_used", "message": "already used"}})
        else:
            self.spent.add(body["jti"])
            self._answer(200, {"jti": body["jti"], "consumed": True})

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def consume_server():
    server = HTTPServer(("127.0.0.1", 0), _Consume)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    _Consume.spent = set()
    _Consume.status_when_missing = None


def test_consume_first_caller_wins_second_is_already_used(consume_server):
    client = Countersign(f"http://127.0.0.1:{consume_server.server_port}", "t")
    assert verify(token(), consume=client)["jti"] == "tok_1"
    with pytest.raises(ApprovalTokenError) as refused:
        verify(token(), consume=client)
    assert refused.value.reason == "already_used"


def test_consume_against_a_service_without_the_route_fails_closed(consume_server):
    _Consume.status_when_missing = True
    client = Countersign(f"http://127.0.0.1:{consume_server.server_port}", "t")
    with pytest.raises(ApprovalTokenError) as refused:
        verify(token(), consume=client)
    assert refused.value.reason == "consume_unavailable"
    assert verify(token())  # offline verification alone still works
