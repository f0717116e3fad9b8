"""Turning Azure SDK failures into Nautilus errors that name provider, subscription and location.

Used by :mod:`nautilus_aks.provider` around every ARM call and every token request. Throttling,
5xx and connection failures become :class:`~nautilus_core.TransientError`; rejected or missing
credentials, missing permissions and other 4xx become :class:`~nautilus_core.PermanentError`.
Tokens never appear in messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from nautilus_core import PermanentError, TransientError

PROVIDER = "aks"

_BEARER = re.compile(r"\bBearer\s+[\w.\-~+/]+=*|\beyJ[\w\-]+\.[\w\-]+\.[\w\-]*", re.I)


def redact(text: str) -> str:
    """``text`` without bearer tokens or JWTs."""
    return _BEARER.sub("***", text)


def where(subscription: str, location: str | None) -> str:
    return f"subscription {subscription}" + (f" location {location}" if location else "")


def translate(exc: BaseException, what: str, *, subscription: str, location: str | None = None
              ) -> Exception | None:
    """The Nautilus error for an Azure SDK exception, or ``None`` if ``exc`` is not one."""
    from azure.core import exceptions as az

    prefix = f"{PROVIDER}: {what} failed in {where(subscription, location)}"
    if isinstance(exc, az.ClientAuthenticationError) and getattr(exc, "status_code", None) is None:
        # raised by the credential itself (no usable identity, token request refused)
        return PermanentError(redact(f"{prefix}: credentials unavailable or rejected: "
                                     f"{type(exc).__name__}: {exc.message}"))
    if isinstance(exc, az.HttpResponseError):
        status = exc.status_code or 0
        code = getattr(getattr(exc, "error", None), "code", None) or exc.reason or ""
        text = redact(f"{prefix}: HTTP {status or '?'} {code}: {exc.message}".replace("\n", " "))
        return TransientError(text) if status == 429 or status >= 500 else PermanentError(text)
    if isinstance(exc, (az.ServiceRequestError, az.ServiceResponseError)):
        return TransientError(redact(f"{prefix}: {type(exc).__name__}: {exc.message}"))
    if isinstance(exc, az.AzureError):
        return PermanentError(redact(f"{prefix}: {type(exc).__name__}: {exc.message}"))
    return None


@contextmanager
def azure_errors(what: str, *, subscription: str, location: str | None = None) -> Iterator[None]:
    """Re-raise Azure SDK exceptions inside the block as Nautilus errors."""
    try:
        yield
    except Exception as exc:
        mapped = translate(exc, what, subscription=subscription, location=location)
        if mapped is None:
            raise
        raise mapped from None
