"""The bounded retry policy of every I/O boundary (tenacity): the Kubernetes client, Prometheus, plugins.

Retries only the exceptions it is told are transient (by default :class:`~nautilus_core.errors.TransientError`:
429, 5xx, timeouts, connection resets, as raised by the clients), waits exponentially from ``base``
to ``max_wait`` unless the error carries a usable Retry-After (``retry_after`` seconds: honoured and
capped at ``max_wait``; NaN, an infinity or a non-number counts as absent, a negative one as 0),
stops after ``attempts``, and re-raises the original exception. ``RetryPolicy.off()`` is what tests
use. Used by ``kube/retry.py`` (the API client's policy), ``scaling/prometheus.py`` and plugins'
own HTTP clients.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from nautilus_core.errors import TransientError

log = structlog.get_logger(__name__)
T = TypeVar("T")


def retry_after_of(exc: BaseException | None) -> float | None:
    """The usable Retry-After of an error in seconds (>= 0), or ``None`` when it has none or it is unusable."""
    hint: Any = getattr(exc, "retry_after", None)
    if isinstance(hint, bool) or not isinstance(hint, int | float) or not math.isfinite(hint):
        return None
    return max(float(hint), 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in total (1 = no retry) for the exceptions in ``retry_on``; exponential wait from
    ``base`` to ``max_wait`` seconds, unless the error has a usable Retry-After (capped at ``max_wait``).
    ``sleep`` is how waiting is done (tests may pass a recorder); ``event`` names the log line of a retry."""

    attempts: int = 5
    base: float = 0.5
    max_wait: float = 30.0
    retry_on: tuple[type[BaseException], ...] = (TransientError,)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    event: str = "retry"

    @classmethod
    def off(cls) -> Self:
        """No retry: every call is made once (what tests use)."""
        return cls(attempts=1)

    def wait_for(self, exc: BaseException | None, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based) raised ``exc``."""
        hint = retry_after_of(exc)
        if hint is not None:
            return min(hint, self.max_wait)
        return min(self.base * 2 ** (attempt - 1), self.max_wait)

    def _wait(self, state: RetryCallState) -> float:
        return self.wait_for(state.outcome.exception() if state.outcome else None, state.attempt_number)

    def call(self, fn: Callable[[], T], *, what: str) -> T:
        """``fn()``, retried under this policy; the last (original) exception is re-raised."""
        if self.attempts <= 1:
            return fn()

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info(self.event, what=what, attempt=state.attempt_number, error=str(exc),
                     wait=round(self._wait(state), 3))

        retrying = Retrying(
            retry=retry_if_exception_type(self.retry_on),
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
            before_sleep=before_sleep,
        )
        return retrying(fn)
