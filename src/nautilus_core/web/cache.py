"""A short-lived cache of the API's answers (micro-caching), so many dashboards cost one query.

Owns :class:`ResponseCache`, a pure-ASGI middleware: a successful ``GET /api/v1/...`` answer is
kept for ``ttl`` seconds (``WebOptions.cache_ttl``, 1 s by default; 0 turns it off) under its path
and query string; concurrent requests for the same key while it is computed wait for that one
computation instead of each querying the database, and for another ``ttl`` after it expires the
old answer is served while one background request refreshes it (stale-while-revalidate), so no
request waits for the database on a hot key; the refresh first asks for the data's version (one
tiny query) and keeps the old answer when nothing changed. At most ``max_entries`` answers (of up to 1 MB) are
kept, the least recently stored going first. The data changes when the collector writes (every 30 s
or more), so an answer is at most ``2 * ttl`` older than the database. It sits inside
``web.security``'s middleware (only authorised requests reach it; every caller sees the same data).
Installed by ``web.app.create_app``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import anyio.to_thread

__all__ = ["ResponseCache"]

#: an answer is rebuilt at least this often, even when the data version says nothing changed
MAX_AGE = 30.0


@dataclass
class _Entry:
    stamped: float   # when it was last known current
    built: float     # when it was computed
    version: Any     # the data version it was computed from (None: unknown)
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ResponseCache:
    """Caches 200 answers of ``GET`` under ``prefix`` for ``ttl`` seconds, single-flight per key.

    ``version``, if given, is a cheap blocking call (run in a worker thread) naming the data's
    current version: a stale answer whose version is still current is kept (re-stamped) instead of
    being recomputed, for up to :data:`MAX_AGE` seconds.
    """

    def __init__(self, app: Any, ttl: float, *, prefix: str = "/api/v1/", max_entries: int = 128,
                 max_body: int = 1024 * 1024, version: Callable[[], Any] | None = None) -> None:
        self.app, self.ttl, self.prefix = app, ttl, prefix
        self.max_entries, self.max_body, self.version = max_entries, max_body, version
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._inflight: dict[bytes, asyncio.Future[_Entry | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (self.ttl <= 0 or scope["type"] != "http" or scope.get("method") != "GET"
                or not scope.get("path", "").startswith(self.prefix)):
            await self.app(scope, receive, send)
            return
        key = scope["path"].encode() + b"?" + scope.get("query_string", b"")
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry.stamped < self.ttl:
            await _replay(send, entry)
            return
        pending = self._inflight.get(key)
        if entry is not None and now - entry.stamped < 2 * self.ttl:
            # stale but recent: answer it now and refresh in the background (once per key)
            if pending is None:
                self._refresh(key, scope, entry)
            await _replay(send, entry)
            return
        if pending is not None:
            shared = await asyncio.shield(pending)
            if shared is not None:
                await _replay(send, shared)
                return
            await self.app(scope, receive, send)  # the first one was not cacheable: answer ourselves
            return
        future = self._start(key)
        result: _Entry | None = None
        try:
            result = await self._compute(scope, receive, send, await self._version())
        finally:
            self._finish(key, future, result)

    async def _version(self) -> Any:
        if self.version is None:
            return None
        try:
            return await anyio.to_thread.run_sync(self.version)
        except Exception:  # unknown: the answer is recomputed (and reports the error itself)
            return None

    def _start(self, key: bytes) -> asyncio.Future[_Entry | None]:
        future: asyncio.Future[_Entry | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        return future

    def _finish(self, key: bytes, future: asyncio.Future[_Entry | None], result: _Entry | None) -> None:
        self._inflight.pop(key, None)
        future.set_result(result)
        if result is not None:
            self._entries[key] = result
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def _refresh(self, key: bytes, scope: Any, entry: _Entry) -> None:
        future = self._start(key)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(message: Any) -> None:
            return None

        async def run() -> None:
            result: _Entry | None = None
            try:
                current = await self._version()
                if (current is not None and current == entry.version
                        and time.monotonic() - entry.built < MAX_AGE):
                    result = replace(entry, stamped=time.monotonic())  # nothing changed: keep it
                else:
                    result = await self._compute(dict(scope), receive, discard, current)
            except Exception:  # the next request computes it again and sees the error itself
                result = None
            finally:
                self._finish(key, future, result)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _compute(self, scope: Any, receive: Any, send: Any, version: Any) -> _Entry | None:
        started = time.monotonic()
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        body = bytearray()
        cacheable = True

        async def capture(message: Any) -> None:
            nonlocal status, headers, cacheable
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
                cacheable = status == 200
            elif message["type"] == "http.response.body" and cacheable:
                body.extend(message.get("body", b""))
                cacheable = len(body) <= self.max_body
            await send(message)

        await self.app(scope, receive, capture)
        if not cacheable or status != 200:
            return None
        return _Entry(started, started, version, status, headers, bytes(body))


async def _replay(send: Any, entry: _Entry) -> None:
    await send({"type": "http.response.start", "status": entry.status, "headers": entry.headers})
    await send({"type": "http.response.body", "body": entry.body})
