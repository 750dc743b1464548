import pytest

from countersign import CountersignApiError, CountersignConnectionError
from countersign.guard import _Retrier


def test_connection_failures_and_5xx_are_retried_until_an_answer():
    answers = [CountersignConnectionError("refused"), CountersignApiError("unavailable", "busy", 503, retry_after=0), "ok"]

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert _Retrier(10)(call) == "ok"
    assert answers == []


def test_a_4xx_is_not_retried_and_an_outage_longer_than_the_limit_gives_up():
    calls = []

    def refused():
        calls.append(1)
        raise CountersignApiError("invalid_request", "bad", 400)

    with pytest.raises(CountersignApiError):
        _Retrier(10)(refused)
    assert len(calls) == 1

    def down():
        raise CountersignConnectionError("refused")

    with pytest.raises(CountersignConnectionError):
        _Retrier(0.3)(down)
