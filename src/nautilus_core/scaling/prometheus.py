"""A small client of the Prometheus HTTP API for scaling decisions, and per-cycle query sharing.

Owns :class:`PrometheusClient` (``GET /api/v1/query`` and ``/api/v1/query_range``: an instant vector
of one series or a scalar becomes a float; an empty answer, NaN or an infinity is "no value"
(``None``); more than one series, or Prometheus's own ``bad_data`` answer, is a
:class:`PromQLError` naming the query; 429, 5xx, timeouts and refused connections are retried a
bounded number of times by the core :class:`~nautilus_core.retry.RetryPolicy`, honouring ``Retry-After``,
then raised as :class:`PrometheusUnavailable`),
and :class:`QueryCache` (identical queries to the same server within one decision cycle are sent
once and their answer shared). Credentials (bearer token, basic auth) are sent as headers and never
appear in error texts. Used by the ``intelligent-scaling`` reconciler.
"""

from __future__ import annotations

import base64
import math
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import orjson
import urllib3

from nautilus_core.errors import NautilusError, TransientError
from nautilus_core.logs import redact_text
from nautilus_core.retry import RetryPolicy


class PromQLError(NautilusError):
    """The query itself is wrong (``bad_data``) or its answer cannot drive a decision."""


class PrometheusUnavailable(TransientError):
    """Prometheus could not be reached or answered 429/5xx, after the bounded retries."""


class _Failed(TransientError):
    """One attempt failed transiently (what the retry policy retries; never leaves this module)."""


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After") if headers else None
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) and value >= 0 else None


def _number(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Auth:
    """What to send: a bearer token, or basic credentials; a CA bundle; whether to skip TLS checks."""

    token: str | None = None
    username: str | None = None
    password: str | None = None
    ca_pem: str | None = None
    insecure_skip_verify: bool = False

    def headers(self) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.username is not None:
            raw = f"{self.username}:{self.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        return {}

    def __repr__(self) -> str:  # never shows a secret
        scheme = "bearer" if self.token else ("basic" if self.username is not None else "none")
        return f"Auth({scheme}, ca={'yes' if self.ca_pem else 'no'}, insecure={self.insecure_skip_verify})"


class PrometheusClient:
    """One Prometheus server. Thread-safe (urllib3's pool is)."""

    def __init__(self, url: str, *, auth: Auth | None = None, timeout: float = 5.0, attempts: int = 3,
                 backoff: float = 0.2, sleep: Callable[[float], None] = time.sleep,
                 retry: RetryPolicy | None = None) -> None:
        self.url = url.rstrip("/")
        self.auth = auth or Auth()
        self.timeout = timeout
        #: the core retry policy (``retry=RetryPolicy.off()`` in tests); else ``attempts`` from ``backoff``
        self.retry = replace(retry, retry_on=(_Failed,)) if retry is not None else RetryPolicy(
            attempts=max(1, attempts), base=backoff, retry_on=(_Failed,), sleep=sleep, event="prometheus_retry")
        kw: dict[str, Any] = {"retries": False, "timeout": urllib3.Timeout(connect=timeout, read=timeout)}
        if self.url.startswith("https://"):
            context = ssl.create_default_context(cadata=self.auth.ca_pem) if self.auth.ca_pem else \
                ssl.create_default_context()
            if self.auth.insecure_skip_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            kw["ssl_context"] = context
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=8, **kw)
        self.requests = 0  # sent, retries included (the benchmark and tests count them)

    def close(self) -> None:
        self._pool.clear()

    @property
    def where(self) -> str:
        return redact_text(self.url)

    def _get(self, path: str, params: dict[str, Any], query: str) -> Any:
        url = f"{self.url}{path}?{urlencode({k: v for k, v in params.items() if v is not None})}"

        def attempt() -> Any:
            self.requests += 1
            try:
                answer = self._pool.request("GET", url, headers=self.auth.headers() | {"Accept": "application/json"})
            except urllib3.exceptions.HTTPError as exc:
                raise _Failed(type(exc).__name__) from None
            if answer.status == 429 or answer.status >= 500:
                raise _Failed(f"HTTP {answer.status}", retry_after=_retry_after(answer.headers))
            return self._decode(answer, query)

        try:
            return self.retry.call(attempt, what=f"prometheus {path}")
        except _Failed as exc:
            raise PrometheusUnavailable(f"prometheus {self.where}: {exc} after {self.retry.attempts} attempts "
                                        f"(query {query!r})", retry_after=exc.retry_after) from None

    def _decode(self, answer: Any, query: str) -> Any:
        try:
            doc = orjson.loads(answer.data)
        except orjson.JSONDecodeError:
            raise PromQLError(f"prometheus {self.where}: HTTP {answer.status}, not JSON (query {query!r})") from None
        if not isinstance(doc, dict):
            raise PromQLError(f"prometheus {self.where}: unexpected answer (query {query!r})")
        if answer.status in (401, 403):
            raise PromQLError(f"prometheus {self.where}: HTTP {answer.status}, credentials refused (query {query!r})")
        if doc.get("status") != "success":
            kind, text = doc.get("errorType") or f"HTTP {answer.status}", doc.get("error") or ""
            raise PromQLError(f"query {query!r}: {kind}: {redact_text(str(text))[:300]}")
        return doc.get("data") or {}

    def query(self, query: str, at: float | None = None) -> float | None:
        """The value of an instant query: one series or a scalar; ``None`` when it has no value.

        :raises PromQLError: the query is invalid or returned more than one series.
        :raises PrometheusUnavailable: after the bounded retries.
        """
        timeout = f"{max(1, int(self.timeout * 1000))}ms"  # Prometheus durations take no fractions
        data = self._get("/api/v1/query", {"query": query, "time": at, "timeout": timeout}, query)
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar" and isinstance(result, list) and len(result) == 2:
            return _number(result[1])
        if kind != "vector" or not isinstance(result, list):
            raise PromQLError(f"query {query!r}: expected an instant vector or a scalar, got {kind}")
        if not result:
            return None
        if len(result) > 1:
            raise PromQLError(f"query {query!r}: returned {len(result)} series; a scaling metric must return one "
                              "(aggregate it, e.g. sum(...))")
        value = (result[0] or {}).get("value")
        return _number(value[1]) if isinstance(value, list) and len(value) == 2 else None

    def query_range(self, query: str, start: float, end: float, step: float) -> list[tuple[float, float | None]]:
        """(time, value) pairs of one series over a range (for forecasting engines)."""
        data = self._get("/api/v1/query_range", {"query": query, "start": start, "end": end, "step": step}, query)
        result = data.get("result")
        if not isinstance(result, list) or not result:
            return []
        if len(result) > 1:
            raise PromQLError(f"query {query!r}: returned {len(result)} series; expected one")
        values = (result[0] or {}).get("values") or []
        return [(float(t), _number(v)) for t, v in values if _number(t) is not None]


class QueryCache:
    """Answers of one decision cycle: an identical (server, credentials, query) is sent once."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str, str], float | BaseException | None] = {}
        self._lock = threading.Lock()
        self.sent = 0

    def query(self, client: PrometheusClient, query: str) -> float | None:
        key = (client.url, repr(client.auth.headers()), query)
        with self._lock:
            if key in self._answers:
                answer = self._answers[key]
                if isinstance(answer, BaseException):
                    raise answer
                return answer
        try:
            value: float | BaseException | None = client.query(query)
        except (PromQLError, PrometheusUnavailable) as exc:
            value = exc
        with self._lock:
            self.sent += 1
            self._answers[key] = value
        if isinstance(value, BaseException):
            raise value
        return value
