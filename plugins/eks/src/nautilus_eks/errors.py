"""Turning boto3/botocore failures into Nautilus errors that name provider, account and region.

Used by :mod:`nautilus_eks.provider` around every AWS call. Throttling, 5xx and connection
failures become :class:`~nautilus_core.TransientError`; rejected credentials, missing permissions
and other 4xx become :class:`~nautilus_core.PermanentError`. Messages carry the AWS error code and
message with any credential value (and anything shaped like an access key id) blanked out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from nautilus_core import PermanentError, TransientError

PROVIDER = "eks"

_TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException", "SlowDown",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError",
    "ServerException", "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "IDPCommunicationError",
})
_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every given secret value and every access-key-id-shaped word replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_ID.sub("***", text)


def credential_values(session: Any) -> list[str]:
    """The session's credential strings, for redaction only (empty if they cannot be read)."""
    try:
        creds = session.get_credentials()
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except Exception:
        return []
    if frozen is None:
        return []
    return [v for v in (frozen.access_key, frozen.secret_key, frozen.token) if v]


def where(region: str, account: str | None = None) -> str:
    return f"account {account or '?'} region {region}"


def translate(exc: BaseException, what: str, *, region: str, account: str | None = None,
              secrets: Iterable[str] = ()) -> Exception | None:
    """The Nautilus error for an AWS SDK exception, or ``None`` if ``exc`` is not one."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionError,
        HTTPClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    prefix = f"{PROVIDER}: {what} failed in {where(region, account)}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error") or {}
        code = str(error.get("Code") or "Unknown")
        message = str(error.get("Message") or "")
        status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        if code == str(status) and message.lstrip().startswith("<"):  # XML body the SDK did not parse
            match = re.search(r"<Code>([^<]+)</Code>.*?<Message>([^<]*)</Message>", message, re.S)
            if match:
                code, message = match.group(1), match.group(2)
        text = redact(f"{prefix}: {code} (HTTP {status or '?'}): {message}".rstrip(": "), secrets)
        if code in _TRANSIENT_CODES or status == 429 or status >= 500:
            return TransientError(text)
        return PermanentError(text)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return PermanentError(f"{prefix}: no usable AWS credentials ({type(exc).__name__}); configure the "
                              "standard AWS credential chain (environment, profile, instance role)")
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return TransientError(redact(f"{prefix}: {type(exc).__name__}: {exc}", secrets))
    if isinstance(exc, BotoCoreError):
        return PermanentError(redact(f"{prefix}: {type(exc).__name__}: {exc}", secrets))
    return None


@contextmanager
def aws_errors(what: str, *, region: str, account: str | None = None, session: Any = None) -> Iterator[None]:
    """Re-raise AWS SDK exceptions inside the block as Nautilus errors (the cause is dropped:
    botocore exceptions may carry request details)."""
    try:
        yield
    except Exception as exc:
        secrets = credential_values(session) if session is not None else []
        mapped = translate(exc, what, region=region, account=account, secrets=secrets)
        if mapped is None:
            raise
        raise mapped from None
