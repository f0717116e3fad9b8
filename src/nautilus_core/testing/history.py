"""Watch events of the API emulator: the bounded history and the registry of live watchers.

Owns :class:`Event` (one change of one object), :class:`Subscriber` (the receiving end of one watch
request, fed from any thread and waking the event loop) and :class:`EventLog` (the last N events,
the "floor" below which a resourceVersion is too old, and fan-out to watchers). The store
(``store.py``) records every change here under its lock; ``watch.py`` consumes watchers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nautilus_core.testing import status as st
from nautilus_core.testing.resources import ResourceKey

Obj = dict[str, Any]
ABORT = "ABORT"  # the type of the pseudo-event that tells a watch to cut its connection


@dataclass(slots=True, frozen=True)
class Event:
    """One change: ``obj`` is the object after it (for DELETED, its last state), ``old`` the one before."""

    rv: int
    type: str
    key: ResourceKey
    obj: Obj
    old: Obj | None


class Subscriber:
    """The receiving end of one watch: events are appended from any thread, the loop gets woken up.

    ``None`` in ``pending`` ends the stream cleanly; an :data:`ABORT` event cuts the connection.
    """

    __slots__ = ("key", "loop", "pending", "wakeup")

    def __init__(self, key: ResourceKey, loop: asyncio.AbstractEventLoop) -> None:
        self.key = key
        self.loop = loop
        self.pending: deque[Event | None] = deque()
        self.wakeup = asyncio.Event()

    def push(self, event: Event | None) -> None:
        self.pending.append(event)
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is listening any more
            self.loop.call_soon_threadsafe(self.wakeup.set)


class EventLog:
    """The last ``size`` events and the live watchers; not locked itself (the store's lock guards it)."""

    def __init__(self, size: int) -> None:
        self._events: deque[Event] = deque(maxlen=max(1, size))
        self._watchers: set[Subscriber] = set()
        self.floor = 0  # every event with rv > floor is still retained

    def record(self, event: Event) -> None:
        if len(self._events) == self._events.maxlen:
            self.floor = self._events[0].rv
        self._events.append(event)
        for watcher in self._watchers:
            if watcher.key == event.key:
                watcher.push(event)

    def expire(self, rv: int) -> None:
        """Forget everything up to ``rv``: resuming from an earlier version becomes 410 Gone."""
        self._events.clear()
        self.floor = rv

    def since(self, key: ResourceKey, rv: int) -> list[Event]:
        """The retained events of one resource after ``rv``; 410 Expired if some may be missing."""
        if rv < self.floor:
            raise st.gone(rv, self.floor + 1)
        return [event for event in self._events if event.key == key and event.rv > rv]

    def subscribe(self, key: ResourceKey, loop: asyncio.AbstractEventLoop) -> Subscriber:
        watcher = Subscriber(key, loop)
        self._watchers.add(watcher)
        return watcher

    def unsubscribe(self, watcher: Subscriber) -> None:
        self._watchers.discard(watcher)

    def close_all(self, rv: int, abort: bool) -> None:
        for watcher in self._watchers:
            watcher.push(Event(rv, ABORT, watcher.key, {}, None) if abort else None)

    def watchers(self) -> Iterable[Subscriber]:
        return list(self._watchers)
