import json

import pytest

from countersign import args_hash, canonical_json


def test_every_shared_vector_gives_the_typescript_canonical_text_and_hash(vectors):
    assert len(vectors["vectors"]) >= 10
    for vector in vectors["vectors"]:
        value = json.loads(vector["json"])
        assert canonical_json(value) == vector["canonical"], vector["name"]
        assert args_hash(value) == vector["args_hash"], vector["name"]


def test_every_shared_refusal_is_refused(vectors):
    for vector in vectors["refused"]:
        with pytest.raises((ValueError, TypeError)):
            canonical_json(json.loads(vector["json"]))


def test_the_issue_case_json_dumps_disagrees_with_rfc_8785():
    params = {"amount": 30.0, "currency": "USD"}
    assert json.dumps(params, sort_keys=True, separators=(",", ":")) == '{"amount":30.0,"currency":"USD"}'
    assert canonical_json(params) == '{"amount":30,"currency":"USD"}'
    assert args_hash(params) == args_hash({"currency": "USD", "amount": 30})


def test_python_values_beyond_json_text():
    assert canonical_json((1, 2.5, True, None)) == "[1,2.5,true,null]"
    assert canonical_json({"big": 2**64}) == '{"big":18446744073709552000}'
    assert canonical_json(-0.0) == "0"
    for bad in (float("nan"), float("inf"), 10**400, {1: "x"}, b"bytes", {"s": {1, 2}}):
        with pytest.raises((ValueError, TypeError)):
            canonical_json(bad)
