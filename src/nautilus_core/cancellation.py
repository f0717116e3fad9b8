"""Cancellation of work in flight: a token per unit of work, and the guard every write passes.

The controller gives each leadership term a :class:`CancelToken` and binds it (:func:`bound`) around
every reconcile its workers run. When the term ends (the Lease is lost, or the process stops) the
token is cancelled: from then on the two I/O paths refuse to send anything for that thread —
``kube.KubeClient`` calls :func:`checkpoint` before every request (and every retry of one), the
database engines (``db.engine``) before every statement — by raising :class:`Cancelled`. A reconcile
blocked in a request when the Lease is lost therefore finishes that one request and writes nothing
after it. Reconcilers may also poll ``token.cancelled`` to stop early. Imported by ``kube``, ``db``
and ``controller``; depends on nothing above ``errors``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from nautilus_core.errors import NautilusError

__all__ = ["CancelToken", "Cancelled", "bound", "checkpoint", "current_token"]


class Cancelled(NautilusError):
    """The work this thread was doing was cancelled; the write named in the message was not sent."""


class CancelToken:
    """Set once, never cleared. ``reason`` says why (``"lease lost"``, ``"shutting down"``)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def cancel(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to ``timeout`` seconds, waking early (True) when cancelled."""
        return self._event.wait(timeout)

    def raise_if_cancelled(self, what: str = "work") -> None:
        if self._event.is_set():
            raise Cancelled(f"{what} not done: cancelled ({self.reason})")

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.cancelled}, reason={self.reason!r})"


_current: ContextVar[CancelToken | None] = ContextVar("nautilus_cancel_token", default=None)


def current_token() -> CancelToken | None:
    """The token bound to the running thread (or task), if any."""
    return _current.get()


@contextmanager
def bound(token: CancelToken) -> Iterator[CancelToken]:
    """Make ``token`` the current one for the body: writes from this thread are refused once cancelled."""
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)


def checkpoint(what: str) -> None:
    """Raise :class:`Cancelled` if the current token is cancelled (called before every request and
    statement, so cancelled work sends nothing more)."""
    token = _current.get()
    if token is not None and token.cancelled:
        raise Cancelled(f"{what} not sent: cancelled ({token.reason})")
