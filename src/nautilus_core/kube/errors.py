"""Errors of the Kubernetes API layer, mapped from HTTP answers.

Raised by ``kube.client``; caught by inventory, the controller runtime and reconcilers, which
never see ``kubernetes`` exceptions.
"""

from __future__ import annotations

from nautilus_core.errors import PermanentError, TransientError


class KubeApiError(PermanentError):
    """The API server refused a request for good (4xx other than 429)."""

    def __init__(self, message: str, *, status: int, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class NotFound(KubeApiError):
    pass


class Conflict(KubeApiError):
    pass


class Gone(KubeApiError):
    """410: the resourceVersion asked for is older than the server keeps (relist)."""


class Unauthorized(KubeApiError):
    """401/403: the credentials were rejected or lack a permission."""


class KubeTransientError(TransientError):
    """429, 5xx, timeouts and connection failures: worth retrying."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


def error_for(status: int, message: str, reason: str | None = None,
              retry_after: float | None = None) -> Exception:
    if status == 429 or status >= 500:
        return KubeTransientError(message, status=status, retry_after=retry_after)
    cls = {404: NotFound, 409: Conflict, 410: Gone, 401: Unauthorized, 403: Unauthorized}.get(status, KubeApiError)
    return cls(message, status=status, reason=reason)
