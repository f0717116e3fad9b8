"""Durations as people write them: Go-style strings ("500ms", "30s", "5m", "1h30m", "1d") or bare seconds.

The one parser behind every duration setting (``Settings``: RECONCILE_INTERVAL, BACKOFF_*, LEASE_DURATION,
RENEW_DEADLINE, RETRY_PERIOD, NAUTILUS_KUBE_TIMEOUT) and flag (``--every``, ``--grace-period``, ...; the
CLI's ``Duration`` parameter type). Called by ``config`` and ``cli``; imports nothing of Nautilus.

Go's ``time.ParseDuration`` units (ns, us/µs, ms, s, m, h) plus ``d`` (24 h); components add up
("1h30m"). A bare number is seconds. Negative, ``inf``, ``nan`` and absurdly long values are refused:
every result is a finite number of seconds within ``[0, MAX_SECONDS]``.
"""

from __future__ import annotations

import math
import re

__all__ = ["MAX_SECONDS", "format_duration", "parse_duration"]

#: The longest duration accepted anywhere (a year): longer is a typo, and would overflow timers.
MAX_SECONDS = 365 * 86400.0

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
          "d": 86400.0}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"({_NUMBER})(ns|us|µs|μs|ms|s|m|h|d)")
_WHOLE = re.compile(rf"(?:{_NUMBER}(?:ns|us|µs|μs|ms|s|m|h|d))+")
EXAMPLES = "a duration such as 500ms, 30s, 5m, 1h30m or 1d, or a number of seconds"


def parse_duration(value: object, *, allow_zero: bool = False, maximum: float = MAX_SECONDS) -> float:
    """Seconds (a finite float) for ``value``: ``"1h30m"`` -> 5400.0, ``"250ms"`` -> 0.25, ``"90"`` or 90 -> 90.0.

    :param allow_zero: accept ``0`` (e.g. "no grace period"); otherwise the duration must be positive.
    :param maximum: the longest accepted duration in seconds.
    :raises ValueError: the message says what was given and what is accepted (callers add the name).
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not {EXAMPLES}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value.strip())
    else:
        raise ValueError(f"{value!r} is not {EXAMPLES}")
    if not math.isfinite(seconds):
        raise ValueError(f"{value!r} is not a finite duration")
    if seconds < 0:
        raise ValueError(f"{value!r} is negative; expected {EXAMPLES}")
    if seconds == 0 and not allow_zero:
        raise ValueError(f"{value!r} must be longer than 0")
    if seconds > maximum:
        raise ValueError(f"{value!r} is longer than the maximum of {format_duration(maximum)}")
    return seconds


def _parse_text(text: str) -> float:
    try:
        return float(text)  # bare seconds; "inf", "nan", "-5", "1e400" are refused by the caller
    except ValueError:
        pass
    sign, body = (-1.0, text[1:]) if text[:1] == "-" else (1.0, text.removeprefix("+"))
    if not _WHOLE.fullmatch(body):
        raise ValueError(f"{text!r} is not {EXAMPLES}")
    total = 0.0
    for number, unit in _PART.findall(body):
        total += float(number) * _UNITS[unit]
    return sign * total


def format_duration(seconds: float) -> str:
    """The short Go-style spelling of ``seconds``: 5400 -> ``"1h30m"``, 0.25 -> ``"250ms"``, 86400 -> ``"1d"``."""
    if seconds < 1:
        return f"{round(seconds * 1000, 3):g}ms"
    out = []
    rest = seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        count = int(rest // size)
        if count:
            out.append(f"{count}{unit}")
            rest -= count * size
    if rest or not out:
        out.append(f"{round(rest, 3):g}s")
    return "".join(out)
