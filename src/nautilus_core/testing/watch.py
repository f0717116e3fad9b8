"""Watch streams of the API emulator (``GET ...?watch=true``).

Owns one watch request from start to end: the starting point (current state as ADDED events, or the
events after a given ``resourceVersion`` replayed from the store's history, or an ERROR event with a
410 Expired ``Status`` when that version is older than the history), live events filtered by namespace,
name, label and field selectors (an object leaving the selector is sent as DELETED, one entering as
ADDED), periodic BOOKMARK events with ``allowWatchBookmarks``, and the end of the stream on
``timeoutSeconds``, on emulator stop, or abruptly during an outage. Each object is sent as the handler's
``render`` shows it (another CRD version, or a one-row ``Table`` for kubectl). Called by ``handlers.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import aiohttp.web
import orjson

from nautilus_core.testing import status as st
from nautilus_core.testing.history import ABORT, Event, Subscriber
from nautilus_core.testing.resources import ResourceType
from nautilus_core.testing.selectors import Matcher
from nautilus_core.testing.store import ObjectStore


def _line(event_type: str, obj: Any) -> bytes:
    return orjson.dumps({"type": event_type, "object": obj}) + b"\n"


def _visible(obj: dict[str, Any] | None, namespace: str | None, matcher: Matcher | None) -> bool:
    if obj is None:
        return False
    if namespace and obj["metadata"].get("namespace") != namespace:
        return False
    return matcher is None or matcher(obj)


def translate(event: Event, namespace: str | None, matcher: Matcher | None) -> str | None:
    """The event type this watcher must see for ``event``, or None to skip it."""
    now = _visible(event.obj, namespace, matcher)
    if event.type != "MODIFIED":
        return event.type if now else None
    before = _visible(event.old, namespace, matcher)
    if now and before:
        return "MODIFIED"
    if now:
        return "ADDED"
    return "DELETED" if before else None


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def _timeout(raw: str | None) -> float | None:
    if raw in (None, ""):
        return None
    try:
        return float(int(raw))
    except ValueError:
        raise st.bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


def _parse_since(raw: str | None) -> int | None:
    if raw in (None, "", "0"):
        return None
    try:
        return int(raw)
    except ValueError:
        raise st.bad_request(f"invalid resourceVersion: {raw!r}") from None


async def serve_watch(
    request: aiohttp.web.BaseRequest,
    store: ObjectStore,
    rtype: ResourceType,
    namespace: str | None,
    matcher: Matcher | None,
    params: dict[str, str],
    bookmark_interval: float,
    render: Callable[[Any], Any] | None = None,
) -> aiohttp.web.StreamResponse:
    """Stream watch events for one request until timeout, stop or disconnect.

    ``render`` turns each event's object into what this client sees (another version, a Table).
    """
    since = _parse_since(params.get("resourceVersion"))
    timeout = _timeout(params.get("timeoutSeconds"))
    bookmarks = _truthy(params.get("allowWatchBookmarks"))
    initial_end = since is None and _truthy(params.get("sendInitialEvents")) and bookmarks
    loop = asyncio.get_running_loop()
    expired: st.ApiError | None = None
    watcher: Subscriber | None = None
    initial: list[Event] = []
    try:
        watcher, initial = store.start_watch(rtype, since, loop, namespace, matcher)
    except st.ApiError as error:
        if error.code != 410:
            raise
        expired = error

    response = aiohttp.web.StreamResponse(
        status=200, headers={"Content-Type": "application/json", "Cache-Control": "no-cache, private"}
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        if expired is not None:
            await response.write(_line("ERROR", expired.status()))
        elif watcher is not None:
            await _pump(
                response,
                request,
                store,
                rtype,
                watcher,
                initial,
                namespace,
                matcher,
                deadline=None if timeout is None else loop.time() + timeout,
                bookmark_interval=bookmark_interval if bookmarks else None,
                initial_end=initial_end,
                render=render or (lambda obj: obj),
            )
        await response.write_eof()
    except ConnectionError:
        pass  # the client went away; nothing left to tell it
    finally:
        if watcher is not None:
            store.stop_watch(watcher)
    return response


async def _pump(
    response: aiohttp.web.StreamResponse,
    request: aiohttp.web.BaseRequest,
    store: ObjectStore,
    rtype: ResourceType,
    watcher: Subscriber,
    initial: list[Event],
    namespace: str | None,
    matcher: Matcher | None,
    deadline: float | None,
    bookmark_interval: float | None,
    initial_end: bool,
    render: Callable[[Any], Any],
) -> None:
    loop = asyncio.get_running_loop()
    chunk = b"".join(
        _line(kind, render(event.obj))
        for event in initial
        if (kind := translate(event, namespace, matcher)) is not None
    )
    if chunk:
        await response.write(chunk)
    if initial_end:
        await response.write(_line("BOOKMARK", _bookmark(rtype, store.resource_version, initial_end=True)))
    next_bookmark = None if bookmark_interval is None else loop.time() + bookmark_interval
    while True:
        lines: list[bytes] = []
        while watcher.pending:
            event = watcher.pending.popleft()
            if event is None:
                if lines:
                    await response.write(b"".join(lines))
                return
            if event.type == ABORT:
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError("the emulator became unreachable")
            kind = translate(event, namespace, matcher)
            if kind is not None:
                lines.append(_line(kind, render(event.obj)))
        if lines:
            await response.write(b"".join(lines))
            continue
        watcher.wakeup.clear()
        if watcher.pending:
            continue
        now = loop.time()
        if next_bookmark is not None and now >= next_bookmark:
            with store.lock:
                latest = store.resource_version if not watcher.pending else None
            if latest is not None:
                await response.write(_line("BOOKMARK", _bookmark(rtype, latest)))
            next_bookmark = now + (bookmark_interval or 0.0)
            continue
        if deadline is not None and now >= deadline:
            return
        waits = [t - now for t in (deadline, next_bookmark) if t is not None]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watcher.wakeup.wait(), timeout=min(waits) if waits else None)


def _bookmark(rtype: ResourceType, rv: int, initial_end: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"apiVersion": rtype.api_version, "kind": rtype.kind, "metadata": metadata}
