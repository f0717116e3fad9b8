"""The Kubernetes API client's retry policy: the core :class:`nautilus_core.retry.RetryPolicy`
retrying :class:`KubeTransientError` (429, 5xx, timeouts, connection resets) with its attempts from
NAUTILUS_KUBE_RETRIES. The only place kube/ retries; ``RetryPolicy.off()`` is what tests use.
"""

from __future__ import annotations

from dataclasses import dataclass

from nautilus_core import retry as core_retry
from nautilus_core.config import KubeSettings, kube_settings
from nautilus_core.kube.errors import KubeTransientError


@dataclass(frozen=True)
class RetryPolicy(core_retry.RetryPolicy):
    """``attempts`` in total (1 = no retry) of an API call; see :class:`nautilus_core.retry.RetryPolicy`."""

    retry_on: tuple[type[BaseException], ...] = (KubeTransientError,)
    event: str = "kube_retry"

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
