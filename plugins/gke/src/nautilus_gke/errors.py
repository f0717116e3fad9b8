"""Turning Google SDK failures into Nautilus errors that name provider, project and location.

Used by :mod:`nautilus_gke.provider` around every call to the GKE API and every credential refresh.
429, 5xx, timeouts and connection failures become :class:`~nautilus_core.TransientError`; rejected
or missing credentials, missing permissions and other 4xx become :class:`~nautilus_core.PermanentError`.
Access tokens never appear in messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from nautilus_core import PermanentError, TransientError

PROVIDER = "gke"

_TOKEN = re.compile(r"\bya29\.[\w.\-]+|\bBearer\s+[\w.\-~+/]+=*", re.I)


def redact(text: str, token: str | None = None) -> str:
    if token:
        text = text.replace(token, "***")
    return _TOKEN.sub("***", text)


def translate(exc: BaseException, what: str, *, project: str, location: str,
              token: str | None = None) -> Exception | None:
    """The Nautilus error for a Google SDK exception, or ``None`` if ``exc`` is not one."""
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    prefix = f"{PROVIDER}: {what} failed in project {project} location {location}"
    if isinstance(exc, api.GoogleAPICallError):
        status = exc.code if isinstance(exc.code, int) else None
        name = type(exc).__name__
        text = redact(f"{prefix}: HTTP {status or '?'} {name}: {exc.message}", token)
        transient = isinstance(exc, (api.TooManyRequests, api.ServerError, api.DeadlineExceeded,
                                     api.ServiceUnavailable))
        return TransientError(text) if transient or (status or 0) >= 500 else PermanentError(text)
    if isinstance(exc, api.RetryError):
        return TransientError(redact(f"{prefix}: gave up retrying: {exc.cause or exc}", token))
    if isinstance(exc, auth.DefaultCredentialsError):
        return PermanentError(f"{prefix}: no Google credentials found; set GOOGLE_APPLICATION_CREDENTIALS or "
                              "run on a workload with a service account")
    if isinstance(exc, auth.RefreshError):
        retryable = bool(getattr(exc, "retryable", False))
        text = redact(f"{prefix}: credentials could not be refreshed: {exc}", token)
        return TransientError(text) if retryable else PermanentError(text)
    if isinstance(exc, (auth.TransportError, requests.ConnectionError, requests.Timeout)):
        return TransientError(redact(f"{prefix}: {type(exc).__name__}: {exc}", token))
    return None


@contextmanager
def google_errors(what: str, *, project: str, location: str, token: str | None = None) -> Iterator[None]:
    """Re-raise Google SDK exceptions inside the block as Nautilus errors."""
    try:
        yield
    except Exception as exc:
        mapped = translate(exc, what, project=project, location=location, token=token)
        if mapped is None:
            raise
        raise mapped from None
