"""Retry policy for calls to an API server (tenacity), the only place kube/ retries.

Retries only transient failures (429, 5xx, timeouts, connection resets), honours Retry-After,
is bounded, and re-raises the original error. ``RetryPolicy.off()`` is what tests use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from nautilus_core.config import KubeSettings, kube_settings
from nautilus_core.kube.errors import KubeTransientError

log = structlog.get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in total (1 = no retry); exponential wait from ``base`` to ``max_wait`` seconds,
    unless the server sent Retry-After (capped at ``max_wait``)."""

    attempts: int = 5
    base: float = 0.5
    max_wait: float = 30.0

    @classmethod
    def off(cls) -> RetryPolicy:
        return cls(attempts=1)

    @classmethod
    def from_settings(cls, settings: KubeSettings) -> RetryPolicy:
        """``settings.kube_retries`` (NAUTILUS_KUBE_RETRIES) sets the attempts (0 or 1: no retry)."""
        return cls(attempts=max(1, settings.kube_retries))

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """:meth:`from_settings` of the environment's settings.

        :raises ConfigError: NAUTILUS_KUBE_RETRIES is not a whole number from 0 to 100.
        """
        return cls.from_settings(kube_settings())

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = exc.retry_after if isinstance(exc, KubeTransientError) else None
        if hint is not None and math.isfinite(hint):  # an unusable hint counts as absent
            return min(max(hint, 0.0), self.max_wait)
        return min(self.base * 2 ** (state.attempt_number - 1), self.max_wait)

    def call(self, fn: Callable[[], T], *, what: str) -> T:
        if self.attempts <= 1:
            return fn()

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info("kube_retry", what=what, attempt=state.attempt_number, error=str(exc),
                     wait=round(self._wait(state), 3))

        retrying = Retrying(
            retry=retry_if_exception_type(KubeTransientError),
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            reraise=True,
            before_sleep=before_sleep,
        )
        return retrying(fn)
