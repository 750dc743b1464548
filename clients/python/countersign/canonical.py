"""RFC 8785 (JSON Canonicalization Scheme) and countersign's ``args_hash``.

``json.dumps(sort_keys=True)`` is not RFC 8785: it writes ``30.0`` where JavaScript
(and so countersign) writes ``30``, keeps integers beyond 2**53 exact where a double
cannot, escapes non-ASCII, and sorts keys by code point instead of UTF-16 code units.
Any of these gives another ``args_hash`` and a refused token.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["canonical_json", "args_hash"]

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def canonical_json(value: Any) -> str:
    """The RFC 8785 text of a JSON value (dict, list, str, int, float, bool, None)."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def args_hash(params: Any) -> str:
    """``sha256:`` + hex SHA-256 of the canonical JSON of ``params``, as countersign computes it."""
    return "sha256:" + hashlib.sha256(canonical_json(params).encode("utf-8")).hexdigest()


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, (int, float)):
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
        out.append("{")
        # RFC 8785 §3.2.3: by UTF-16 code units; big-endian UTF-16 bytes compare the same way.
        for i, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} has no JSON representation")


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            raise ValueError("a lone surrogate has no canonical JSON form")
        escaped = _SHORT_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _number(value: int | float) -> str:
    """ECMAScript's Number::toString of the nearest IEEE 754 double (RFC 8785 §3.2.2.3)."""
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{value} is beyond the range of an IEEE 754 double") from None
    if not math.isfinite(number):
        raise ValueError(f"{number} has no JSON representation")
    if number == 0:
        return "0"  # also -0
    sign = "-" if number < 0 else ""
    # repr() gives the shortest digits that round-trip, as ECMAScript requires; only the layout differs.
    text = repr(abs(number))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        body = (digits if k == 1 else digits[0] + "." + digits[1:]) + ("e+" if e >= 0 else "e-") + str(abs(e))
    return sign + body
