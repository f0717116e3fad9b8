"""``KubeClient``: the one object through which Nautilus talks to a Kubernetes API server.

Wraps the official ``kubernetes`` client's ``ApiClient`` (its configuration, auth refresh and
connection pool) but sends raw requests and parses answers with orjson: building the client's typed
models for a list costs 4-10x the CPU of parsing its raw JSON. Lists are paginated (limit/continue)
and streamed page by page. Every call goes through one retry policy. Used by inventory enrichers,
the controller runtime, reconcilers and provider plugins (which build one with
:func:`nautilus_core.kube.connect`).
"""

from __future__ import annotations

import gc
import math
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import orjson
import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from nautilus_core.cancellation import checkpoint
from nautilus_core.kube.errors import KubeApiError, KubeTransientError, error_for
from nautilus_core.kube.retry import RetryPolicy

DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
#: a Retry-After beyond a day is no hint we can use (the retry policy caps its waits far lower)
_RETRY_AFTER_MAX = 86400.0
PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}


def resource_path(api_version: str, plural: str, namespace: str | None = None,
                  name: str | None = None, subresource: str | None = None) -> str:
    """``/api/v1/namespaces/ns/pods/name/log`` and the like."""
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    parts = [base]
    if namespace:
        parts.append(f"namespaces/{quote(namespace, safe='')}")
    parts.append(plural)
    if name:
        parts.append(quote(name, safe=""))
    if subresource:
        parts.append(subresource)
    return "/".join(parts)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    resource_version: str | None
    continue_token: str | None


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110).

    Anything unusable (``nan``, ``inf``, negative, garbage, absurdly far) counts as absent so the
    retry policy's own backoff applies; a date in the past means "now" (0).
    """
    if not headers:
        return None
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if raw is None:
        return None
    text = str(raw).strip()
    try:
        seconds = float(text)
    except ValueError:
        return _retry_after_date(text)
    if not math.isfinite(seconds) or seconds < 0 or seconds > _RETRY_AFTER_MAX:
        return None
    return seconds


def _retry_after_date(text: str) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - datetime.now(UTC)).total_seconds()
    return None if seconds > _RETRY_AFTER_MAX else max(seconds, 0.0)


def _status_message(data: bytes) -> tuple[str | None, str | None]:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None, data[:200].decode("utf-8", "replace") or None
    if isinstance(doc, dict):
        return doc.get("reason"), doc.get("message")
    return None, None


class KubeClient:
    """Raw-JSON access to one API server. Thread-safe (urllib3's pool is)."""

    def __init__(self, api_client: ApiClient, *, name: str = "", retry: RetryPolicy | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        self.api_client = api_client
        self.name = name or api_client.configuration.host
        self.retry = retry or RetryPolicy.from_env()
        self.timeout = timeout
        self._closed = threading.Event()

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    def __repr__(self) -> str:
        return f"KubeClient({self.name!r}, host={self.host!r})"

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self.api_client.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ raw requests

    def _send(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
              body: Any = None, content_type: str | None = None,
              timeout: float | tuple[float, float] | None = None, stream: bool = False,
              accept: str = "application/json") -> Any:
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        params = [(k, str(v).lower() if isinstance(v, bool) else v)
                  for k, v in (query or {}).items() if v is not None]
        method_, url, headers_, body_, post = self.api_client.param_serialize(
            method, path, query_params=params, header_params=headers, body=body,
            auth_settings=["BearerToken"],
        )
        where = f"{method} {path} on {self.name}"
        try:
            response = self.api_client.call_api(method_, url, header_params=headers_, body=body_,
                                                post_params=post, _request_timeout=timeout or self.timeout)
        except ApiException as exc:  # raised by the client for TLS problems and Retry-After reads
            status = exc.status or 0
            if status == 0:
                raise KubeApiError(f"{where}: {exc.reason}", status=0) from None
            raise error_for(status, f"{where}: HTTP {status} {exc.reason}",
                            retry_after=_retry_after(exc.headers)) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise KubeTransientError(f"{where}: {type(exc).__name__}: {exc}") from None
        raw = response.response
        if raw.status >= 400:
            data = raw.read()
            raw.release_conn()
            reason, message = _status_message(data)
            raise error_for(raw.status, f"{where}: HTTP {raw.status} {reason or ''}: {message or ''}".strip(),
                            reason=reason, retry_after=_retry_after(raw.headers))
        if stream:
            return raw
        try:
            return raw.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise KubeTransientError(f"{where}: {type(exc).__name__}: {exc}") from None
        finally:
            raw.release_conn()

    def request(self, method: str, path: str, **kw: Any) -> bytes:
        """One request with retries; returns the body bytes (raises on 4xx/5xx). Refused with
        ``Cancelled`` (before each try) once the calling thread's work is cancelled."""
        def attempt() -> bytes:
            checkpoint(f"{method} {path} on {self.name}")
            return self._send(method, path, **kw)

        return self.retry.call(attempt, what=f"{method} {path}")

    def request_json(self, method: str, path: str, **kw: Any) -> Any:
        data = self.request(method, path, **kw)
        return orjson.loads(data) if data else None

    def stream(self, path: str, *, query: Mapping[str, Any], read_timeout: float) -> Any:
        """Open a streaming GET (watch); the caller reads lines and closes the response."""
        return self.retry.call(
            lambda: self._send("GET", path, query=query, stream=True,
                               timeout=(self.timeout[0], read_timeout)),
            what=f"WATCH {path}",
        )

    # ------------------------------------------------------------------ verbs

    def version(self) -> dict[str, Any]:
        return dict(self.request_json("GET", "/version"))

    def list_pages(self, api_version: str, plural: str, *, namespace: str | None = None,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int = 500) -> Iterator[Page]:
        """Pages of a list (limit/continue), parsed with the garbage collector paused."""
        token: str | None = None
        while True:
            data = self.request("GET", resource_path(api_version, plural, namespace), query={
                "limit": limit or None, "continue": token,
                "labelSelector": label_selector, "fieldSelector": field_selector,
            })
            enabled = gc.isenabled()
            gc.disable()
            try:
                doc = orjson.loads(data)
            finally:
                if enabled:
                    gc.enable()
            meta = doc.get("metadata") or {}
            token = meta.get("continue") or None
            yield Page(doc.get("items") or [], meta.get("resourceVersion"), token)
            if not token:
                return

    def list(self, api_version: str, plural: str, **kw: Any) -> Iterator[dict[str, Any]]:
        """Every item of a list, page by page (pages are dropped once consumed)."""
        for page in self.list_pages(api_version, plural, **kw):
            yield from page.items

    def get(self, api_version: str, plural: str, name: str, namespace: str | None = None,
            subresource: str | None = None) -> dict[str, Any]:
        return dict(self.request_json("GET", resource_path(api_version, plural, namespace, name, subresource)))

    def create(self, api_version: str, plural: str, body: Mapping[str, Any],
               namespace: str | None = None) -> dict[str, Any]:
        return dict(self.request_json("POST", resource_path(api_version, plural, namespace), body=dict(body)))

    def replace(self, api_version: str, plural: str, body: Mapping[str, Any], namespace: str | None = None,
                subresource: str | None = None) -> dict[str, Any]:
        name = body["metadata"]["name"]
        path = resource_path(api_version, plural, namespace, name, subresource)
        return dict(self.request_json("PUT", path, body=dict(body)))

    def patch(self, api_version: str, plural: str, name: str, patch: Any, *, namespace: str | None = None,
              patch_type: str = "merge", subresource: str | None = None) -> dict[str, Any]:
        path = resource_path(api_version, plural, namespace, name, subresource)
        return dict(self.request_json("PATCH", path, body=patch, content_type=PATCH_TYPES[patch_type]))

    def apply(self, api_version: str, plural: str, body: Mapping[str, Any], *, namespace: str | None = None,
              field_manager: str = "nautilus", force: bool = True) -> dict[str, Any]:
        """Server-side apply of an object we own (PATCH application/apply-patch+yaml)."""
        name = body["metadata"]["name"]
        path = resource_path(api_version, plural, namespace, name)
        payload = orjson.dumps(dict(body)).decode()  # JSON is YAML
        return dict(self.request_json("PATCH", path, body=payload, content_type=PATCH_TYPES["apply"],
                                      query={"fieldManager": field_manager, "force": force}))

    def delete(self, api_version: str, plural: str, name: str, namespace: str | None = None,
               propagation: str = "Background") -> dict[str, Any] | None:
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        result = self.request_json("DELETE", resource_path(api_version, plural, namespace, name), body=body)
        return dict(result) if isinstance(result, dict) else None

    def logs(self, namespace: str, pod: str, *, container: str | None = None, tail_lines: int | None = None,
             previous: bool = False, timestamps: bool = False, limit_bytes: int | None = None) -> str:
        data = self.request("GET", resource_path("v1", "pods", namespace, pod, "log"), accept="*/*", query={
            "container": container, "tailLines": tail_lines, "previous": previous or None,
            "timestamps": timestamps or None, "limitBytes": limit_bytes,
        })
        return data.decode("utf-8", "replace")
