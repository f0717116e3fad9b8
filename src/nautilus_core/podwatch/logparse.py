"""Container log classification: entries with a level; a multi-line stack trace is one entry.

Interface commit; the rules land in the next commits. Called by the podwatch collector per container log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nautilus_core.db.models.podwatch import LogLevel

__all__ = ["LogEntry", "LogLevel", "mask_secrets", "parse_log"]


@dataclass(frozen=True)
class LogEntry:
    ts: datetime | None
    level: LogLevel
    text: str


def parse_log(raw: str, *, timestamps: bool = True, mask: bool = True) -> list[LogEntry]:
    """Entries of ``raw`` (the body of GET .../log?timestamps=true), never raising."""
    raise NotImplementedError


def mask_secrets(text: str) -> str:
    """``text`` with well-known secret forms masked (idempotent)."""
    raise NotImplementedError
