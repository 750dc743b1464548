"""Verifying countersign approval tokens in a tool gateway (CONTRACT §6).

A token is a compact JWS signed with Ed25519 (``alg: EdDSA``, ``typ:
countersign-approval+jwt``). PyJWT reads the JWKS key, ``cryptography`` checks the
signature, and the claims are checked here the same way as the TypeScript client's
verifyApprovalToken.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .canonical import args_hash
from .client import fetch_json
from .errors import ApprovalTokenError, CountersignApiError, CountersignError

if TYPE_CHECKING:
    from .client import Countersign

__all__ = ["verify_approval_token", "TOKEN_TYPE", "DEFAULT_ISSUER"]

TOKEN_TYPE = "countersign-approval+jwt"
DEFAULT_ISSUER = "countersign"
_REFETCH_AFTER = 10.0  # seconds: an unknown kid refetches the JWKS at most this often (key rotation)

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def verify_approval_token(
    token: str | None,
    *,
    action: str,
    params: Any,
    audience: str,
    jwks: Mapping[str, Any] | None = None,
    jwks_url: str | None = None,
    request_id: str | None = None,
    issuer: str = DEFAULT_ISSUER,
    leeway: float = 5,
    now: float | None = None,
    consume: Countersign | None = None,
) -> dict[str, Any]:
    """Verifies an approval token for the action a gateway is about to execute; returns its claims.

    Checks the Ed25519 signature against ``jwks`` (a JWKS document) or ``jwks_url`` (fetched,
    cached, refetched for an unknown ``kid``), the type, issuer, expiry, audience (the agent
    id), action, the request id when given, and ``args_hash`` recomputed over ``params`` with
    RFC 8785. With ``consume`` (a Countersign client) it also spends the token online
    (``POST /v1/tokens/consume``) so that it cannot be replayed. Raises ApprovalTokenError.
    """
    if not isinstance(token, str) or token == "":
        raise ApprovalTokenError("missing", "no approval token: this action needs an approved countersign request")
    parts = token.split(".")
    if len(parts) != 3:
        raise ApprovalTokenError("malformed", "not a compact JWS (three dot-separated parts)")
    header = _segment(parts[0], "header")
    if header.get("alg") not in ("EdDSA", "Ed25519"):
        raise ApprovalTokenError("wrong_type", f"alg {header.get('alg')!r} is not allowed; countersign signs with EdDSA")
    if header.get("typ") != TOKEN_TYPE:
        raise ApprovalTokenError("wrong_type", f"typ {header.get('typ')!r} is not {TOKEN_TYPE}")
    if "crit" in header or "b64" in header:
        raise ApprovalTokenError("malformed", "crit and b64 header parameters are not supported")

    key = _key_for(header.get("kid"), jwks, jwks_url)
    try:
        signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except ValueError:
        raise ApprovalTokenError("malformed", "the signature is not base64url") from None
    try:
        key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except (InvalidSignature, UnicodeEncodeError):
        raise ApprovalTokenError("bad_signature", "signature verification failed") from None

    claims = _segment(parts[1], "payload")
    _check_claims(claims, action, params, audience, request_id, issuer, leeway, time.time() if now is None else now)
    if consume is not None:
        _consume(consume, claims["jti"])
    return claims


def _check_claims(
    claims: dict[str, Any],
    action: str,
    params: Any,
    audience: str,
    request_id: str | None,
    issuer: str,
    leeway: float,
    now: float,
) -> None:
    for name in ("sub", "aud", "jti", "act", "args_hash", "iss"):
        if not isinstance(claims.get(name), str):
            raise ApprovalTokenError("malformed", f'the "{name}" claim is missing or not a string')
    for name in ("iat", "exp"):
        value = claims.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ApprovalTokenError("malformed", f'the "{name}" claim is missing or not a number')
    if claims["iss"] != issuer:
        raise ApprovalTokenError("wrong_issuer", f'issued by "{claims["iss"]}", not "{issuer}"')
    if claims["aud"] != audience:
        raise ApprovalTokenError("wrong_audience", f'issued to "{claims["aud"]}", not "{audience}"')
    if claims["exp"] <= int(now) - leeway:
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"]))
        raise ApprovalTokenError("expired", f"expired at {at}")
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, (int, float)) or nbf > now + leeway):
        raise ApprovalTokenError("not_yet_valid", "not valid yet (nbf)")
    if claims["act"] != action:
        raise ApprovalTokenError("wrong_action", f'it is for action "{claims["act"]}", not "{action}"')
    if request_id is not None and claims["sub"] != request_id:
        raise ApprovalTokenError("wrong_request", f"it is for request {claims['sub']}, not {request_id}")
    try:
        computed = args_hash(params)
    except (TypeError, ValueError) as error:
        raise ApprovalTokenError("wrong_args", f"the params have no canonical JSON form: {error}") from None
    if computed != claims["args_hash"]:
        raise ApprovalTokenError(
            "wrong_args", f"it covers other params (args_hash {claims['args_hash']}, these are {computed})"
        )


def _consume(client: Countersign, jti: str) -> None:
    try:
        client.consume_token(jti)
    except CountersignApiError as error:
        if error.status == 409:
            raise ApprovalTokenError("already_used", f"token {jti} was already used ({error.code})") from None
        if error.status in (404, 405) and error.code in ("not_found", "method_not_allowed", f"http_{error.status}"):
            raise ApprovalTokenError(
                "consume_unavailable",
                f"the service cannot spend this token (POST /v1/tokens/consume answered {error.status} {error.code}); "
                "it was not accepted",
            ) from None
        raise ApprovalTokenError("consume_unavailable", f"could not spend token {jti}: {error}") from None
    except CountersignError as error:
        raise ApprovalTokenError("consume_unavailable", f"could not spend token {jti}: {error}") from None


def _key_for(kid: Any, jwks: Mapping[str, Any] | None, jwks_url: str | None) -> Any:
    if jwks is not None:
        found = _find(jwks, kid)
        if found is None:
            raise ApprovalTokenError("unknown_key", f"no key {kid!r} in the JWKS")
        return _public_key(found)
    if jwks_url is None:
        raise TypeError("verify_approval_token needs jwks or jwks_url")
    with _cache_lock:
        cached = _cache.get(jwks_url)
    found = _find(cached[1], kid) if cached else None
    if found is None and (cached is None or time.monotonic() - cached[0] > _REFETCH_AFTER):
        try:
            document = fetch_json(jwks_url)
        except CountersignError as error:
            raise ApprovalTokenError("jwks_unavailable", str(error)) from None
        if not isinstance(document, dict):
            raise ApprovalTokenError("jwks_unavailable", f"{jwks_url} is not a JWKS document")
        with _cache_lock:
            _cache[jwks_url] = (time.monotonic(), document)
        found = _find(document, kid)
    if found is None:
        raise ApprovalTokenError("unknown_key", f"no key {kid!r} in the JWKS at {jwks_url}")
    return _public_key(found)


def _find(jwks: Mapping[str, Any], kid: Any) -> dict[str, Any] | None:
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        raise ApprovalTokenError("jwks_unavailable", "the JWKS has no keys list")
    candidates = [k for k in keys if isinstance(k, dict) and (kid is None or k.get("kid") == kid)]
    return candidates[0] if len(candidates) == 1 else None


def _public_key(jwk: dict[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ApprovalTokenError("unknown_key", "the JWKS key is not an Ed25519 key")
    try:
        key = jwt.PyJWK(jwk, algorithm="EdDSA").key
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise ApprovalTokenError("unknown_key", f"unusable JWKS key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ApprovalTokenError("unknown_key", "the JWKS key is not an Ed25519 public key")
    return key


def _segment(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ApprovalTokenError("malformed", f"the {what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise ApprovalTokenError("malformed", f"the {what} is not a JSON object")
    return value
