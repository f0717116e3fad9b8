"""The HTTP transport both registry clients share (urllib3): JSON in and out, the API key, retries, errors.

Owns :class:`Transport`: one registry base URL; every call sends the API key (``Authorization: Bearer``
as the seed's collector did, and ``X-API-Key``) and ``Accept: application/json``; follows a 307/308 to
the same server once (the seed registry redirects paths without a trailing slash); counts each attempt
in ``calls[(operation, outcome)]``; retries connection errors, timeouts, 429 (honouring Retry-After)
and 5xx with the core :class:`~nautilus_core.retry.RetryPolicy`, then raises
:class:`~nautilus_oda.registry.base.RegistryUnavailable`; raises
:class:`~nautilus_oda.registry.base.RegistryAuthError` at once on 401/403 (never retried). Other 4xx
answers are returned for the client to interpret. A request marked ``idempotent=False`` (a create the
server does not deduplicate) is retried only when the failure proves it was not acted on (no connection,
429, 503); a timeout or reset after sending raises :class:`MaybeWritten` at once instead of risking a
copy. Every error text is scrubbed: the key never appears in an error or a log line, even when a
server echoes it back. Used by ``component_registry.py`` and ``tmf639.py``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import orjson
import structlog
import urllib3

from nautilus_core.errors import TransientError
from nautilus_core.logs import MASK, redact_text
from nautilus_core.retry import RetryPolicy
from nautilus_oda.registry.base import RegistryAuthError, RegistryUnavailable

log = structlog.get_logger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Failed(TransientError):
    """One attempt failed transiently (what the retry policy retries; never leaves this module)."""


class MaybeWritten(RegistryUnavailable):
    """A non-idempotent request failed after it was sent (timeout, reset, 500/502/504): it may have been applied."""


class _NotProcessed(_Failed):
    """One attempt failed in a way that proves the server did not act on it: the connection was never made,
    or the answer was 429 or 503. The only failures a non-idempotent request (a create) is retried on."""


def retry_after_header(raw: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date (RFC 9110); else ``None``."""
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max(when.timestamp() - (time.time() if now is None else now), 0.0)
    return value if math.isfinite(value) and value >= 0 else None


@dataclass(frozen=True)
class Answer:
    """A registry's answer: status, headers (lower-case names), and the JSON body (or its text when not JSON)."""

    status: int
    headers: dict[str, str]
    data: Any

    def detail(self) -> str:
        """The error text of the answer: FastAPI's ``detail``, TMF630's ``message``/``reason``, or the text."""
        data = self.data
        if isinstance(data, dict):
            for key in ("detail", "message", "reason"):
                if data.get(key):
                    return _short(data[key])
        return _short(data)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return text[:300]


def outcome_of(status: int) -> str:
    """The ``outcome`` label of a call's metric."""
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "auth_error"
    if status == 404:
        return "not_found"
    if status == 429:
        return "throttled"
    if status >= 500:
        return "server_error"
    return "rejected"


class Transport:
    """One registry base URL; thread-safe (urllib3's pool is, and ``Counter`` updates are atomic enough
    for metrics)."""

    def __init__(self, base_url: str, *, api_key: str = "", timeout: float = 10.0,
                 retry: RetryPolicy | None = None, calls: Counter[tuple[str, str]] | None = None,
                 name: str = "registry") -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.name = name
        #: the core retry policy (``RetryPolicy.off()`` in tests), retrying this module's transient failures
        self.retry = replace(retry or RetryPolicy(attempts=3, event="registry_retry"), retry_on=(_Failed,))
        self.calls: Counter[tuple[str, str]] = calls if calls is not None else Counter()
        self.sent = 0  # HTTP requests sent, retries included
        self.writes = 0  # write requests sent (POST/PUT/PATCH/DELETE), retries included
        self._pool = urllib3.PoolManager(num_pools=2, maxsize=8, retries=False,
                                         timeout=urllib3.Timeout(connect=timeout, read=timeout))
        split = urlsplit(self.base_url)
        self._origin = (split.scheme, split.netloc)

    def __repr__(self) -> str:  # never shows the key
        return f"Transport({self.where!r}, key={'set' if self._api_key else 'none'})"

    @property
    def public_url(self) -> str:
        """The base URL without user info, query or fragment (what may be stored in a registry)."""
        split = urlsplit(self.base_url)
        host = split.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{split.port}" if split.port else ""
        return f"{split.scheme}://{host}{port}{split.path}"

    @property
    def where(self) -> str:
        """The base URL as it may be shown (credentials in it masked)."""
        return redact_text(self.base_url)

    def scrub(self, text: str) -> str:
        """``text`` with the API key and any credential-looking parts masked."""
        if self._api_key:
            text = text.replace(self._api_key, MASK)
        return redact_text(text)

    def close(self) -> None:
        self._pool.clear()

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "nautilus-oda"}
        if content_type:
            headers["Content-Type"] = content_type
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
            headers["X-API-Key"] = self._api_key
        return headers

    def request(self, method: str, path: str, *, operation: str, query: dict[str, Any] | None = None,
                body: Any = None, content_type: str = "application/json", idempotent: bool = True) -> Answer:
        """Send one call (retried under the policy); 2xx and 4xx other than 401/403 are returned.

        ``idempotent=False`` (a create that the server does not deduplicate): retried only when the failure
        proves the server did not act on it (no connection, 429, 503); a timeout or a reset after sending
        is raised at once, so a retry cannot make a second copy.

        :raises RegistryAuthError: 401/403.
        :raises RegistryUnavailable: connection errors, timeouts, 429 or 5xx after the bounded retries.
        """
        params = {k: v for k, v in (query or {}).items() if v is not None}
        url = f"{self.base_url}{path}" + (f"?{urlencode(params)}" if params else "")
        payload = orjson.dumps(body) if body is not None else None
        what = f"{method} {path}"

        def attempt() -> Answer:
            return self._send(method, url, payload, content_type if payload is not None else None, operation)

        policy = self.retry if idempotent else replace(self.retry, retry_on=(_NotProcessed,))
        try:
            answer = policy.call(attempt, what=f"{self.name} {what}")
        except _Failed as exc:
            if not idempotent and not isinstance(exc, _NotProcessed):
                raise MaybeWritten(f"{self.name} {self.where}: {what}: {exc} (not retried: the server may have "
                                   "acted on it)", retry_after=exc.retry_after) from None
            raise RegistryUnavailable(f"{self.name} {self.where}: {what}: {exc} after {policy.attempts} attempt(s)",
                                      retry_after=exc.retry_after) from None
        if answer.status in (401, 403):
            raise RegistryAuthError(
                f"{self.name} {self.where}: {what}: HTTP {answer.status}, the API key was refused "
                f"(check COMPONENT_REGISTRY_API_KEY): {self.scrub(answer.detail())}")
        return answer

    def _send(self, method: str, url: str, payload: bytes | None, content_type: str | None,
              operation: str) -> Answer:
        for _hop in range(3):  # the request and at most two redirects
            self.sent += 1
            if method in WRITE_METHODS:
                self.writes += 1
            try:
                raw = self._pool.request(method, url, body=payload, headers=self._headers(content_type),
                                         redirect=False, preload_content=True)
            except urllib3.exceptions.HTTPError as exc:
                self.calls[(operation, "unreachable")] += 1
                kind = _NotProcessed if isinstance(exc, urllib3.exceptions.ConnectTimeoutError) else _Failed
                raise kind(self.scrub(f"{type(exc).__name__}: {_reason(exc)}")) from None
            self.calls[(operation, outcome_of(raw.status))] += 1
            headers = {k.lower(): v for k, v in raw.headers.items()}
            if raw.status in (307, 308) and headers.get("location"):
                target = urljoin(url, headers["location"])
                split = urlsplit(target)
                if (split.scheme, split.netloc) != self._origin:  # never send the key elsewhere
                    raise RegistryUnavailable(f"{self.name} {self.where}: redirected off the registry "
                                              f"to {redact_text(target)}")
                url = target
                continue
            if raw.status == 429 or raw.status >= 500:
                kind = _NotProcessed if raw.status in (429, 503) else _Failed
                raise kind(f"HTTP {raw.status} {self.scrub(_text(raw.data))}".strip(),
                           retry_after=retry_after_header(headers.get("retry-after")))
            return Answer(raw.status, headers, _decode(raw.data))
        raise RegistryUnavailable(f"{self.name} {self.where}: too many redirects")


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc)[:200]


def _text(data: bytes) -> str:
    return data[:200].decode("utf-8", "replace").strip()


def _decode(data: bytes) -> Any:
    if not data:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return data.decode("utf-8", "replace")
