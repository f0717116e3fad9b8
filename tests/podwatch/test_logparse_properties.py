"""Property-based log parsing: any text parses without raising; no text is lost (every non-blank character
of the input is in an entry, in order); kubelet timestamps go to ``ts`` and nothing else is taken off;
masking happens before parsing and only there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from test_logparse import GO, JAVA, NODE, PYTHON
from triage_helpers import property_settings

from nautilus_core.podwatch.logparse import parse_log
from nautilus_core.podwatch.secrets import mask_secrets

FRAGMENTS = st.sampled_from([
    "ERROR boom", "WARN slow", "INFO ok", "[error] x", '{"level":"error","msg":"x"}', "level=warn msg=y",
    "E0102 15:04:05.123456       1 a.go:1] x", "Traceback (most recent call last):", '  File "a.py", line 1',
    "KeyError: 'x'", "\tat com.x.Y.m(Y.java:1)", "Caused by: java.io.IOException", "\t... 3 more",
    "panic: boom", "goroutine 1 [running]:", "main.main()", "    at f (/a.js:1:2)", "/a.js:1", "    ^",
    "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----", "During handling of the above exception", "}",
    "", " ", "\t", "\r", "\x00", "password=hunter2", "Bearer abcdefghijkl", PYTHON, JAVA, GO, NODE,
])
LINES = st.lists(st.one_of(FRAGMENTS, st.text(max_size=40)), max_size=30)


def visible(text: str) -> str:
    return "".join(text.split())


@property_settings()
@given(st.text(max_size=400))
def test_any_text_parses(raw: str) -> None:
    for timestamps in (True, False):
        for mask in (True, False):
            for entry in parse_log(raw, timestamps=timestamps, mask=mask):
                assert entry.text and entry.text == entry.text.rstrip() and "\x00" not in entry.text


@property_settings()
@given(LINES)
def test_no_text_is_lost(lines: list[str]) -> None:
    raw = "\n".join(lines)
    entries = parse_log(raw, timestamps=False, mask=False)
    assert visible("".join(e.text for e in entries)) == visible(raw.replace("\x00", "\ufffd"))
    assert all(visible(e.text) for e in entries)


@property_settings()
@given(LINES, st.integers(min_value=0, max_value=10**9), st.booleans())
def test_kubelet_timestamps_go_to_ts(lines: list[str], offset: int, nanos: bool) -> None:
    start = datetime(2024, 6, 1, tzinfo=UTC) + timedelta(microseconds=offset)

    def stamp(i: int) -> str:
        text = (start + timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%f")
        return f"{text}{'789' if nanos else ''}Z"

    lines = [part for line in lines for part in line.split("\n")]  # one kubelet line each
    raw = "".join(f"{stamp(i)} {line}\n" for i, line in enumerate(lines))
    entries = parse_log(raw, mask=False)
    assert visible("".join(e.text for e in entries)) == visible("".join(lines).replace("\x00", "\ufffd"))
    firsts = {start + timedelta(milliseconds=i) for i, line in enumerate(lines)}
    assert all(e.ts in firsts for e in entries)
    assert [e.ts for e in entries] == sorted(e.ts for e in entries if e.ts is not None)


@property_settings()
@given(LINES)
def test_masking_is_applied_before_parsing(lines: list[str]) -> None:
    raw = "\n".join(lines)
    assert parse_log(raw, timestamps=False) == parse_log(mask_secrets(raw), timestamps=False, mask=False)
    assert all("hunter2" not in e.text for e in parse_log(raw, timestamps=False))
