"""Rows of the triage tables from what the collector read: pods and containers from a triage verdict,
Events from their raw JSON, log entries with the fingerprint that identifies them across runs.

Pure functions, no I/O. The fingerprint of a log entry is its timestamp and text (plus how many
identical entries came before it in the same answer), so the lines of a container read again on the
next run, or read as the previous instance after a restart, are recognised and not stored twice.
Called by ``podwatch.store``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from nautilus_core.db import row_hash

__all__ = ["AGING_COLUMNS", "Entry", "container_rows", "entries", "event_row", "malformed_pod_row",
           "parse_time", "pod_row"]

#: pod columns the triage derives from the clock as well as the pod ("3 (5m ago)", "OOMKilled 11s ago", an
#: attention that grows with age): refreshed with ``last_seen_at`` when they moved, not part of ``data_hash``
AGING_COLUMNS = ("restarts_text", "attention", "top_message")
CONTAINER_COLUMNS = ("name", "init", "image", "ready", "state", "reason", "message", "exit_code", "started_at",
                     "restart_count", "last_reason", "last_message", "last_exit_code", "last_finished_at")
LEVEL_COUNT = {"error": "error_count", "warning": "warning_count", "exception": "exception_count"}


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one (API answers are not trusted to have shape)."""
    return value if isinstance(value, Mapping) else {}


def _value(enum_or_text: Any) -> Any:
    return getattr(enum_or_text, "value", enum_or_text)


def _nul_free(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold NUL: the same value on both backends (U+FFFD instead)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_nul_free(k): _nul_free(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nul_free(v) for v in value]
    return value


def pod_row(verdict: Any, namespace: str, name: str, problems: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``pod`` columns of one verdict (without cluster id, log counts, timestamps and hash)."""
    top = verdict.top
    row = {
        "namespace": namespace, "name": name, "uid": verdict.uid, "phase": verdict.phase,
        "status": verdict.status, "ready": verdict.ready, "ready_count": verdict.ready_count,
        "container_count": verdict.container_count, "restarts": verdict.restarts,
        "restarts_text": verdict.restarts_text, "last_restart_at": verdict.last_restart_at,
        "node": verdict.node, "owner_kind": verdict.owner_kind, "owner_name": verdict.owner_name,
        "created_at": verdict.created_at, "deletion_requested_at": verdict.deletion_requested_at,
        "health": str(_value(verdict.health)), "attention": int(verdict.attention),
        "top_container": top.container if top else None, "top_reason": top.reason if top else None,
        "top_message": top.message if top else None, "top_hint": top.hint if top else None,
        "problems": problems or None, "labels": dict(verdict.labels) if verdict.labels else None,
    }
    return _nul_free(row)


def malformed_pod_row(namespace: str, name: str, field: str, problems: list[dict[str, Any]]) -> dict[str, Any]:
    """A pod whose JSON does not have a Pod's shape: kept visible, flagged, with the field named."""
    message = f"pod {namespace}/{name}: field {field} has an unexpected type or value"
    keys = ("uid", "phase", "status", "ready", "ready_count", "container_count", "restarts", "restarts_text",
            "last_restart_at", "node", "owner_kind", "owner_name", "created_at", "deletion_requested_at",
            "top_container", "top_hint", "labels")
    row: dict[str, Any] = dict.fromkeys(keys)
    row.update({"namespace": namespace, "name": name, "health": "degraded", "attention": 0,
                "top_reason": "MalformedPod", "top_message": message,
                "problems": [*problems, {"container": None, "message": message}]})
    return _nul_free(row)


def pod_hash(row: Mapping[str, Any]) -> str:
    return row_hash(row, exclude=("id", "cluster_id", "first_seen_at", "data_hash", "deleted_at", "last_seen_at",
                                   *AGING_COLUMNS))


def container_rows(verdict: Any) -> list[dict[str, Any]]:
    """One row per (init) container of the verdict (without pod id, log counts and log error)."""
    out = []
    for cv in verdict.containers:
        row = {col: getattr(cv, col) for col in CONTAINER_COLUMNS}
        row["restart_count"] = row["restart_count"] or 0
        row["state"] = _value(row["state"])
        out.append(_nul_free(row))
    return out


class Entry(NamedTuple):
    """One parsed log entry of a container, ready to store (a tuple: a collection makes ~10^6 of them)."""

    container: str
    previous: bool
    ts: datetime | None
    level: str
    text: str
    fingerprint: str


#: level enum -> its text (an enum's ``.value`` is a slow descriptor: this runs once per log entry)
_LEVEL_TEXT: dict[Any, str] = {}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def entries(container: str, previous: bool, parsed: Iterable[Any]) -> list[Entry]:
    """Fingerprinted entries of one log answer (``parse_log`` output), in the order they were written.

    The fingerprint hashes the timestamp (in microseconds), how many identical entries came before in
    this answer, and the text: the same entry read again (next run, or as the previous instance after
    a restart) has the same fingerprint. MD5 here is a fast checksum, not a security measure.
    """
    seen: dict[tuple[int, str], int] = {}
    out = []
    md5, levels, make = hashlib.md5, _LEVEL_TEXT, tuple.__new__
    for item in parsed:
        text = item.text
        if "\x00" in text:
            text = text.replace("\x00", "\ufffd")
        ts = item.ts
        micros = (ts - _EPOCH) // _MICROSECOND if ts is not None else -1
        repeat = seen.get((micros, text), 0)
        seen[(micros, text)] = repeat + 1
        digest = md5(f"{micros}\x1f{repeat}\x1f{text}".encode("utf-8", "replace"), usedforsecurity=False).hexdigest()
        level = levels.get(item.level)
        if level is None:
            level = levels[item.level] = str(_value(item.level))
        out.append(make(Entry, (container, previous, ts, level, text, digest)))
    return out


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp of the API (``2024-06-01T12:00:00Z``, with or without fractions) or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def event_row(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``pod_event`` columns of one Event (without pod id), or None without a uid."""
    meta = mapping(event.get("metadata"))
    uid = meta.get("uid") or meta.get("name")
    if not isinstance(uid, str) or not uid:
        return None
    series = mapping(event.get("series"))
    source = mapping(event.get("source"))
    count: Any = event.get("count") if isinstance(event.get("count"), int) else series.get("count")
    first = parse_time(event.get("firstTimestamp")) or parse_time(event.get("eventTime"))
    last = (parse_time(series.get("lastObservedTime")) or parse_time(event.get("lastTimestamp"))
            or parse_time(event.get("eventTime")) or first)
    component = source.get("component") or event.get("reportingController") or event.get("reportingComponent")

    def text(value: Any) -> str | None:
        return _nul_free(value)[:4000] if isinstance(value, str) else None

    return {"uid": uid[:253], "type": text(event.get("type")), "reason": text(event.get("reason")),
            "message": text(event.get("message")), "count": count if isinstance(count, int) and count > 0 else 1,
            "first_at": first, "last_at": last, "source": text(component)}


def level_counts(levels: Sequence[str]) -> dict[str, int]:
    counts = dict.fromkeys(LEVEL_COUNT.values(), 0)
    for level in levels:
        column = LEVEL_COUNT.get(level)
        if column:
            counts[column] += 1
    return counts
