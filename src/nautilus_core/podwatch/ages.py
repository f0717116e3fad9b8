"""kubectl's short ages ("45s", "3m20s", "5h3m", "3d4h", "2y10d"): apimachinery's ``duration.HumanDuration``.

Owns :func:`human_duration` (used for RESTARTS, "3 (5m ago)", kubectl's ``translateTimestampSince``) and
:func:`since`, so the RESTARTS a dashboard shows read exactly like ``kubectl get pods``. Rules, as upstream:
under 2 minutes in seconds; under 10 minutes minutes and seconds; under 3 hours minutes; under 8 hours hours
and minutes; under 2 days hours; under 8 days days and hours; under 2 years days; under 8 years years and
days; then years. A timestamp up to a second in the future reads "0s"; further is "<invalid>".
Called by :mod:`nautilus_core.podwatch.triage`.
"""

from __future__ import annotations

from datetime import datetime

__all__ = ["human_duration", "since"]


def human_duration(seconds: float) -> str:
    """``seconds`` as kubectl prints an age: ``human_duration(200)`` -> ``"3m20s"``."""
    total = int(seconds)  # truncates towards zero, like Go's int(d.Seconds())
    if total < -1:
        return "<invalid>"
    if total < 0:
        return "0s"
    if total < 120:
        return f"{total}s"
    minutes = total // 60
    if minutes < 10:
        return f"{minutes}m{total % 60}s" if total % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        return f"{years}y{days % 365}d" if days % 365 else f"{years}y"
    return f"{years}y"


def since(then: datetime | None, now: datetime) -> str:
    """kubectl's ``translateTimestampSince``: the age of ``then`` at ``now``, "<unknown>" without one."""
    return "<unknown>" if then is None else human_duration((now - then).total_seconds())
