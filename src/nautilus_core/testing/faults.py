"""Fault injection and the request journal of the API emulator.

Owns :class:`Fault` (answer matching requests with an error status, extra headers such as
``Retry-After``, a delay, or a custom body, a given number of times), :class:`FaultSet` (the ordered,
thread-safe list the HTTP layer consults first), :class:`Journal` (every request seen, as
:class:`RequestRecord` tuples of method, path and query) and :class:`Outage` (the handle of an
"unreachable" period). Tests create faults through ``KubeEmulator.inject``; ``handlers.py`` matches them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RequestRecord(NamedTuple):
    """One request as the emulator saw it."""

    method: str
    path: str
    query: dict[str, str]

    @property
    def is_write(self) -> bool:
        return self.method in _WRITE_METHODS


class Journal:
    """The requests an emulator has seen, oldest first; thread-safe, clearable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> RequestRecord:
        with self._lock:
            return self._records[index]

    @property
    def writes(self) -> list[RequestRecord]:
        """The POST/PUT/PATCH/DELETE requests (to assert that nothing was written)."""
        return [record for record in self.snapshot() if record.is_write]

    def filter(
        self, method: str | None = None, path: str | re.Pattern[str] | None = None
    ) -> list[RequestRecord]:
        """Records with this method and whose path contains ``path`` (or matches the regex)."""
        return [
            record
            for record in self.snapshot()
            if (method is None or record.method == method.upper()) and _path_matches(path, record.path)
        ]

    def __repr__(self) -> str:
        return f"Journal({self.snapshot()!r})"


def _path_matches(pattern: str | re.Pattern[str] | None, path: str) -> bool:
    if pattern is None:
        return True
    if isinstance(pattern, re.Pattern):
        return pattern.search(path) is not None
    return pattern in path


@dataclass(eq=False)
class Fault:
    """An injected failure; see ``KubeEmulator.inject`` for the meaning of the fields."""

    method: str | None = None
    path: str | re.Pattern[str] | None = None
    status: int | None = 500
    times: int | None = 1
    headers: Mapping[str, str] | None = None
    delay: float = 0.0
    body: Any = None
    query: Mapping[str, str] | None = None
    hits: int = 0
    _cancelled: bool = field(default=False, repr=False)
    _on_cancel: Callable[[Fault], None] | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return not self._cancelled and (self.times is None or self.hits < self.times)

    @property
    def remaining(self) -> int | None:
        """How many more requests this fault will answer (None: unlimited)."""
        if self._cancelled:
            return 0
        return None if self.times is None else max(0, self.times - self.hits)

    def cancel(self) -> None:
        self._cancelled = True
        if self._on_cancel is not None:
            self._on_cancel(self)

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if not _path_matches(self.path, path):
            return False
        return all(
            str(query.get(key, "")).lower() == str(value).lower() for key, value in (self.query or {}).items()
        )

    def __enter__(self) -> Fault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


class FaultSet:
    """Faults in the order they were injected; the first active match answers a request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        fault._on_cancel = self._discard
        with self._lock:
            self._faults.append(fault)
        return fault

    def _discard(self, fault: Fault) -> None:
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str, query: Mapping[str, str]) -> Fault | None:
        """The fault to apply to this request (its hit counted), or None."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.active and fault.matches(method, path, query):
                    fault.hits += 1
                    return fault
        return None

    def __len__(self) -> int:
        return sum(1 for fault in self._faults if fault.active)


class Outage:
    """An "unreachable" period of an emulator; ``restore()`` (or leaving the ``with``) ends it."""

    def __init__(self, mode: str, restore: Callable[[], None]) -> None:
        self.mode = mode
        self._restore = restore
        self._restored = False

    @property
    def active(self) -> bool:
        return not self._restored

    def restore(self) -> None:
        if not self._restored:
            self._restored = True
            self._restore()

    def __enter__(self) -> Outage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()
