"""The core retry policy (nautilus_core.retry): bounded, Retry-After honoured and capped, originals re-raised."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nautilus_core.errors import PermanentError, TransientError
from nautilus_core.retry import RetryPolicy


class Flaky:
    """Fails with the given errors in turn, then answers ``"ok"``; counts the calls."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors, self.calls = list(errors), 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def policy(sleeps: list[float], **kw) -> RetryPolicy:
    return RetryPolicy(**({"attempts": 4, "base": 0.1, "max_wait": 5.0, "sleep": sleeps.append} | kw))


def test_transient_failures_are_retried_with_exponential_waits_until_success():
    sleeps: list[float] = []
    fn = Flaky(TransientError("503"), TransientError("reset"))
    assert policy(sleeps).call(fn, what="get") == "ok"
    assert fn.calls == 3 and sleeps == [0.1, 0.2]


def test_attempts_are_bounded_and_the_original_exception_is_re_raised():
    sleeps: list[float] = []
    errors = [TransientError(f"503 #{i}") for i in range(10)]
    fn = Flaky(*errors)
    with pytest.raises(TransientError) as info:
        policy(sleeps).call(fn, what="get")
    assert fn.calls == 4 and len(sleeps) == 3
    assert info.value is errors[3]


def test_non_retryable_errors_are_re_raised_at_once():
    sleeps: list[float] = []
    for error in (PermanentError("404"), ValueError("bad answer")):
        fn = Flaky(error)
        with pytest.raises(type(error)) as info:
            policy(sleeps).call(fn, what="get")
        assert info.value is error and fn.calls == 1
    assert sleeps == []


def test_retry_after_is_honoured_and_capped_at_max_wait():
    sleeps: list[float] = []
    fn = Flaky(TransientError("429", retry_after=2.5), TransientError("429", retry_after=3600))
    assert policy(sleeps).call(fn, what="get") == "ok"
    assert sleeps == [2.5, 5.0]


@pytest.mark.parametrize("hint", [math.nan, math.inf, -math.inf, "soon", True, None])
def test_an_unusable_retry_after_counts_as_absent(hint):
    sleeps: list[float] = []
    assert policy(sleeps).call(Flaky(TransientError("429", retry_after=hint)), what="get") == "ok"
    assert sleeps == [0.1]


def test_a_negative_retry_after_means_now():
    sleeps: list[float] = []
    assert policy(sleeps).call(Flaky(TransientError("429", retry_after=-3)), what="get") == "ok"
    assert sleeps == [0.0]


def test_off_calls_once():
    fn = Flaky(TransientError("503"))
    with pytest.raises(TransientError):
        RetryPolicy.off().call(fn, what="get")
    assert fn.calls == 1


def test_retry_on_chooses_what_is_transient():
    sleeps: list[float] = []
    fn = Flaky(TimeoutError("read timed out"))
    assert policy(sleeps, retry_on=(TimeoutError,)).call(fn, what="get") == "ok"
    fn = Flaky(TransientError("503"))
    with pytest.raises(TransientError):
        policy(sleeps, retry_on=(TimeoutError,)).call(fn, what="get")
    assert fn.calls == 1


@given(hint=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text()),
       attempt=st.integers(min_value=1, max_value=200))
def test_every_wait_is_finite_and_within_the_cap(hint, attempt):
    wait = RetryPolicy(base=0.5, max_wait=30.0).wait_for(TransientError("x", retry_after=hint), attempt)
    assert math.isfinite(wait) and 0.0 <= wait <= 30.0
