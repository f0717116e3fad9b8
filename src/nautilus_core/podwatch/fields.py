"""Type-checked reads of raw pod JSON for triage: every bad field raises ``MalformedPod`` naming it.

Owns the small readers :mod:`nautilus_core.podwatch.triage` uses on the pod dict as the API server sent it
(maps, lists of maps, strings, integers, booleans, RFC 3339 timestamps), so a hostile or broken answer
(a label that is a number, a timestamp that is not one, a NUL byte in a name) is reported with the field's
path and never surfaces as a ``TypeError`` from deep inside. Free text (messages) is kept, with NUL bytes
replaced (PostgreSQL cannot store them). Called by ``triage`` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from nautilus_core.podstatus import MalformedPod

__all__ = ["as_bool", "as_int", "as_map", "as_maps", "as_message", "as_text", "as_time", "get_map"]

Obj = Mapping[str, Any]


def as_map(value: Any, field: str) -> Obj:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedPod(field)
    return value


def get_map(parent: Obj, key: str, field: str) -> Obj:
    return as_map(parent.get(key), field)


def as_maps(value: Any, field: str) -> Sequence[Obj]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MalformedPod(field)
    for item in value:
        if not isinstance(item, Mapping):
            raise MalformedPod(field)
    return value


def as_text(value: Any, field: str) -> str | None:
    """An optional identifier-like string (name, reason, image): a NUL byte makes it unusable."""
    if value is None:
        return None
    if type(value) is not str or "\x00" in value:
        raise MalformedPod(field)
    return value


def as_message(value: Any, field: str) -> str | None:
    """Optional free text written by a program (a termination message): kept, NUL bytes replaced."""
    if value is None:
        return None
    if type(value) is not str:
        raise MalformedPod(field)
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def as_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if type(value) is not int:  # bool is refused too
        raise MalformedPod(field)
    return value


def as_bool(value: Any, field: str) -> bool | None:
    if value is None:
        return None
    if type(value) is not bool:
        raise MalformedPod(field)
    return value


def as_time(value: Any, field: str) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime (UTC when it names no offset); "" counts as absent."""
    if value is None or value == "":
        return None
    if type(value) is not str or len(value) > 64:
        raise MalformedPod(field)
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedPod(field) from None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
