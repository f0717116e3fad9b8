"""Runnables and their supervision: what the controller runtime starts, watches and stops together.

Owns :class:`Runnable` (anything with a ``name`` and a blocking ``run(token)`` that returns once the
token is cancelled: a web server, a collector, a leader-only loop), :class:`Supervised` (one runnable
in its own thread, restarted with exponential backoff when it raises or returns early, its state
kept for ``/healthz``) and :class:`Runnables` (a set of them started and stopped as one, with one
health answer). The runtime keeps one :class:`Runnables` for the whole process (any replica) and one
per leadership term (leader-only runnables, cancelled with the term). Called by ``controller.runtime``.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

import structlog

from nautilus_core.cancellation import CancelToken

log = structlog.get_logger(__name__)

#: a runnable that died this many times within ``CRASHLOOP_WINDOW`` seconds fails /healthz
CRASHLOOP_RESTARTS = 5
CRASHLOOP_WINDOW = 300.0


@runtime_checkable
class Runnable(Protocol):
    """Runs until ``token`` is cancelled. Raising (or returning before that) counts as dying: the
    runtime restarts it with backoff. ``leader_only`` runnables run only while this replica leads."""

    name: str

    def run(self, token: CancelToken) -> None: ...


class Supervised:
    """One runnable in a daemon thread, restarted with backoff (``backoff`` seconds, doubling)."""

    def __init__(self, runnable: Runnable, token: CancelToken, *, backoff: tuple[float, float] = (1.0, 60.0)) -> None:
        self.runnable = runnable
        self.name = str(getattr(runnable, "name", type(runnable).__name__))
        self.token = token
        #: a runnable may set ``restart_backoff = (first, max)`` seconds
        self.backoff = tuple(getattr(runnable, "restart_backoff", backoff))
        self.restarts = 0
        self.last_error: str | None = None
        self.state = "starting"
        self._deaths: list[float] = []
        self._thread = threading.Thread(target=self._loop, name=f"runnable-{self.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _loop(self) -> None:
        delay = self.backoff[0]
        while not self.token.cancelled:
            self.state = "running"
            started = time.monotonic()
            try:
                self.runnable.run(self.token)
                if self.token.cancelled:
                    break
                error = "returned before it was stopped"
            except Exception as exc:
                if self.token.cancelled:
                    break
                error = f"{type(exc).__name__}: {exc}"
            self.restarts += 1
            self.last_error = error
            now = time.monotonic()
            self._deaths = [t for t in self._deaths if now - t < CRASHLOOP_WINDOW] + [now]
            if now - started > 60.0:  # it ran fine for a while: start the backoff over
                delay = self.backoff[0]
            self.state = "restarting"
            log.error("runnable_died", runnable=self.name, error=error, restarts=self.restarts,
                      retry_in=round(delay, 2))
            if self.token.wait(delay):
                break
            delay = min(delay * 2, self.backoff[1])
        self.state = "stopped"

    def health(self) -> tuple[bool, str]:
        recent = len([t for t in self._deaths if time.monotonic() - t < CRASHLOOP_WINDOW])
        if self.state == "running" and recent < CRASHLOOP_RESTARTS:
            return True, "running" + (f" (restarted {self.restarts}x, last: {self.last_error})"
                                      if self.restarts else "")
        if self.state == "restarting" and recent < CRASHLOOP_RESTARTS:
            return True, f"restarting after: {self.last_error}"
        return False, f"{self.state}, died {recent}x in {int(CRASHLOOP_WINDOW)}s (last: {self.last_error})"


class Runnables:
    """Runnables started and stopped together under one token."""

    def __init__(self, token: CancelToken | None = None) -> None:
        self.token = token or CancelToken()
        self._items: list[Supervised] = []
        self._started = False
        self._lock = threading.Lock()

    def add(self, runnable: Runnable) -> Supervised:
        item = Supervised(runnable, self.token)
        with self._lock:
            self._items.append(item)
            started = self._started
        if started:
            item.start()
        return item

    def start(self) -> None:
        with self._lock:
            self._started = True
            items = list(self._items)
        for item in items:
            item.start()

    def stop(self, reason: str, timeout: float = 10.0) -> None:
        self.token.cancel(reason)
        deadline = time.monotonic() + timeout
        for item in self.items():
            item.join(max(0.0, deadline - time.monotonic()))

    def items(self) -> list[Supervised]:
        with self._lock:
            return list(self._items)

    def health(self) -> dict[str, tuple[bool, str]]:
        return {item.name: item.health() for item in self.items()}

