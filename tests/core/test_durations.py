"""Durations: Go-style strings and bare seconds, one parser for every setting and flag."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nautilus_core.durations import MAX_SECONDS, format_duration, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("5s", 5), ("5m", 300), ("1h30m", 5400), ("500ms", 0.5), ("1.5h", 5400), ("1d", 86400),
    ("2h45m30.5s", 9930.5), ("250us", 0.00025), ("90", 90), ("0.25", 0.25), (" 45s ", 45), ("+10s", 10),
    (12, 12), (2.5, 2.5),
])
def test_go_style_strings_and_bare_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("text", "problem"), [
    ("inf", "finite"), ("nan", "finite"), ("-inf", "finite"), ("1e400", "finite"), (math.inf, "finite"),
    ("-1", "negative"), ("-5m", "negative"), (-3, "negative"),
    ("99999999999d", "longer than the maximum of 365d"), ("366d", "longer than the maximum"),
    ("soon", "not a duration"), ("5 m", "not a duration"), ("1h-30m", "not a duration"), ("", "not a duration"),
    ("m", "not a duration"), ("30sec", "not a duration"), (True, "not a duration"), (None, "not a duration"),
    ("0", "longer than 0"), ("0s", "longer than 0"),
])
def test_unusable_durations_are_refused_with_a_reason(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_duration(text)


def test_zero_only_where_allowed():
    assert parse_duration("0", allow_zero=True) == 0.0
    assert parse_duration("0s", allow_zero=True) == 0.0


@given(st.floats(min_value=0.001, max_value=MAX_SECONDS, allow_nan=False))
@settings(max_examples=300, deadline=None)
def test_formatting_round_trips(seconds):
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, abs=0.001)


@given(st.text(max_size=20))
@settings(max_examples=500, deadline=None)
def test_any_text_parses_to_a_bounded_finite_duration_or_raises_value_error(text):
    try:
        seconds = parse_duration(text)
    except ValueError:
        return
    assert math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS
