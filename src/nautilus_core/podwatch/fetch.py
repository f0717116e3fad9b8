"""What the podwatch collector reads from one cluster: pods, their Events, and container logs.

Owns the API side of a collection: pods listed page by page as raw JSON (per namespace, or once
for the whole cluster), Events about pods (``fieldSelector=involvedObject.kind=Pod``, one list per
namespace), which log requests a pod needs (each container that ran, and its previous instance after
a restart) and a bounded pool that fetches them concurrently with timestamps. A failed list is
returned as an error for its namespace, never raised; a failed log call is returned for its container.
Called by ``podwatch.collect``; also the floor of ``bench/podwatch_collect.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from nautilus_core.logs import redact_text
from nautilus_core.podwatch.rows import mapping

log = structlog.get_logger(__name__)

Obj = dict[str, Any]
#: 400 answers that only mean "there is no such log (yet)": not a problem of the pod
_NO_LOG = ("is waiting to start", "previous terminated container", "not found")


class LogSource(Protocol):
    """The part of :class:`~nautilus_core.kube.KubeClient` the collector uses."""

    def list_pages(self, api_version: str, plural: str, **kw: Any) -> Iterator[Any]: ...

    def logs(self, namespace: str, pod: str, *, container: str | None = None, tail_lines: int | None = None,
             previous: bool = False, timestamps: bool = False, limit_bytes: int | None = None) -> str: ...


@dataclass
class Listing:
    """The pods (and pod Events) of one namespace, or of every namespace (``namespace`` ``None``)."""

    namespace: str | None
    pods: list[Obj] = field(default_factory=list)
    events: list[Obj] | None = None  # None: the Events list failed (the pods' events are kept as they were)
    error: str | None = None
    events_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class LogRequest:
    namespace: str
    pod: str
    container: str
    init: bool
    previous: bool


@dataclass
class LogResult:
    request: LogRequest
    text: str | None = None  # None: no log (never started, no previous instance), an error, or parsed
    error: str | None = None
    parsed: list[Any] = field(default_factory=list)  # what ``parse(request, text)`` made of the text


def error_text(exc: BaseException) -> str:
    return redact_text(f"{type(exc).__name__}: {exc}")[:1000]


def list_scope(kube: LogSource, namespace: str | None, *, page_size: int = 500) -> Listing:
    """Pods and pod Events of ``namespace`` (``None``: the whole cluster), paged; failures recorded."""
    listing = Listing(namespace)
    try:
        for page in kube.list_pages("v1", "pods", namespace=namespace, limit=page_size):
            listing.pods.extend(page.items)
    except Exception as exc:  # one namespace's failure must not hide the others
        listing.pods, listing.error = [], error_text(exc)
        log.warning("podwatch_list_failed", namespace=namespace or "*", error=listing.error)
        return listing
    try:
        events: list[Obj] = []
        for page in kube.list_pages("v1", "events", namespace=namespace, limit=page_size,
                                    field_selector="involvedObject.kind=Pod"):
            events.extend(page.items)
        listing.events = events
    except Exception as exc:
        listing.events_error = error_text(exc)
        log.warning("podwatch_events_failed", namespace=namespace or "*", error=listing.events_error)
    return listing


def _statuses(pod: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    status = pod.get("status")
    items = status.get(key) if isinstance(status, Mapping) else None
    return [s for s in items if isinstance(s, Mapping)] if isinstance(items, list) else []


def log_requests(pod: Mapping[str, Any]) -> list[LogRequest]:
    """The log calls a pod needs: each (init) container that has run, and its previous instance after a
    restart. Containers that never started (waiting, no restart) have no log to read."""
    meta = mapping(pod.get("metadata"))
    namespace, name = meta.get("namespace"), meta.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str):
        return []
    out = []
    for key, init in (("initContainerStatuses", True), ("containerStatuses", False)):
        for cs in _statuses(pod, key):
            container = cs.get("name")
            if not isinstance(container, str) or not container:
                continue
            state = mapping(cs.get("state"))
            last = mapping(cs.get("lastState"))
            count = cs.get("restartCount")
            restarts = count if isinstance(count, int) else 0
            ran = "running" in state or "terminated" in state or restarts > 0
            if ran:
                out.append(LogRequest(namespace, name, container, init, False))
            if "terminated" in last or restarts > 0:
                out.append(LogRequest(namespace, name, container, init, True))
    return out


def fetch_log(kube: LogSource, request: LogRequest, tail_lines: int) -> LogResult:
    """One log call with timestamps; "no such log" answers are an empty result, other failures an error."""
    try:
        text = kube.logs(request.namespace, request.pod, container=request.container, tail_lines=tail_lines,
                         previous=request.previous, timestamps=True)
        return LogResult(request, text=text)
    except Exception as exc:
        status = getattr(exc, "status", None)
        message = str(exc)
        if status in (400, 404) and any(marker in message for marker in _NO_LOG):
            return LogResult(request)
        return LogResult(request, error=error_text(exc))


class LogFetcher:
    """Fetches logs with at most ``concurrency`` calls in flight. With ``parse``, each answer is parsed in
    the pool thread and its raw text dropped (parsing overlaps the caller's database writes)."""

    def __init__(self, kube: LogSource, *, tail_lines: int, concurrency: int,
                 parse: Callable[[LogRequest, str], list[Any]] | None = None) -> None:
        self.kube, self.tail_lines, self.parse = kube, tail_lines, parse
        self._pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="podwatch-log")

    def _one(self, request: LogRequest) -> LogResult:
        result = fetch_log(self.kube, request, self.tail_lines)
        if self.parse is not None and result.text is not None:
            text, result.text = result.text, None
            try:
                result.parsed = self.parse(request, text)
            except Exception as exc:  # a classifier bug must cost this container's lines, not the run
                log.error("podwatch_log_unparsable", namespace=request.namespace, pod=request.pod,
                          container=request.container, error=error_text(exc))
                result.error = f"log could not be classified: {error_text(exc)}"
        return result

    def submit(self, requests: Iterable[LogRequest]) -> list[Future[LogResult]]:
        """Start the calls; the futures answer in submission order."""
        return [self._pool.submit(self._one, r) for r in requests]

    def fetch(self, requests: Sequence[LogRequest]) -> list[LogResult]:
        return [f.result() for f in self.submit(requests)]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> LogFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
