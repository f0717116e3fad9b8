"""The HTTP machinery of the plugin's fake registries: a threaded server on 127.0.0.1, faults, counts, the key.

Owns :class:`LocalServer`, the base of :class:`~nautilus_oda.testing.FakeComponentRegistry` and
:class:`~nautilus_oda.testing.FakeResourceInventory`: binds 127.0.0.1 on a free port (``port=0``),
serves HTTP/1.1 keep-alive from a thread, and is a context manager. Subclasses implement
:meth:`LocalServer.route`. Shared behaviour:

- ``api_key``: when set, every call but the health endpoints needs it (``X-API-Key`` or
  ``Authorization: Bearer``), else a 401 — the real Gen-1 service checks no key, a gateway in front does.
- Faults: :meth:`down` (connections refused, open ones cut) / :meth:`up`; :meth:`fail` (the next ``times``
  calls answer ``status``, e.g. 503, or 429 with a Retry-After); :meth:`stall` (answers only after a delay:
  client timeouts); :meth:`refuse_key` (401 for every call).
- ``requests``: a Counter of ``(method, path)`` of every call received (faulted ones included) — tests
  and the bench count reads and :attr:`writes` with it; :meth:`reset_counts` clears it.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import orjson

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Request:
    """One call as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    """What to send back: a JSON-able body (``None``: empty) or raw ``text``."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None

    def encode(self) -> tuple[bytes, str]:
        if self.text is not None:
            return self.text.encode(), "text/plain; charset=utf-8"
        if self.body is None:
            return b"", "application/json"
        return orjson.dumps(self.body), "application/json"


@dataclass
class _Fault:
    status: int
    times: int
    retry_after: str | None
    text: str
    after: int = 0
    stall: float = 0.0  # seconds to wait, then answer normally (a timeout fault)
    method: str | None = None  # only calls of this method ...
    path: str = ""  # ... on paths starting with this count and are faulted

    def matches(self, request: Request) -> bool:
        return (self.method is None or request.method == self.method) and request.path.startswith(self.path)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout, a fault that cut the connection) is no error of the fake's."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handle_error(request, client_address)


class LocalServer:
    """A local HTTP server for tests (see the module docstring)."""

    health_paths: frozenset[str] = frozenset({"/health"})

    def __init__(self, *, api_key: str | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the fake registries bind 127.0.0.1 only")
        self.api_key = api_key
        self.requests: Counter[tuple[str, str]] = Counter()
        self.log: list[Request] = []
        self._host, self._port = "127.0.0.1", port
        self._lock = threading.RLock()
        self._faults: list[_Fault] = []
        self._refuse_key = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._open: set[socket.socket] = set()

    # -- lifecycle ---------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> Self:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # answers in one segment, no delayed-ACK stalls on keep-alive
            wbufsize = 64 * 1024  # headers and body go out together (flushed after each request)

            def setup(self) -> None:
                super().setup()
                with owner._lock:
                    owner._open.add(self.connection)

            def finish(self) -> None:
                with contextlib.suppress(OSError):
                    super().finish()
                with owner._lock:
                    owner._open.discard(self.connection)

            def _serve(self) -> None:
                owner._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = _Server((self._host, self._port), Handler)
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{type(self).__name__}:{self._port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._lock:
            for conn in list(self._open):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._open.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- faults ------------------------------------------------------------------------------------------

    def down(self) -> None:
        """Refuse connections (the port is closed) and cut the open ones, until :meth:`up`."""
        self.stop()

    def up(self) -> None:
        """Serve again on the same port, with the same data."""
        if self._server is None:
            self.start()

    def fail(self, status: int = 503, *, times: int = 1, retry_after: float | str | None = None,
             text: str = "Service Unavailable", after: int = 0, method: str | None = None, path: str = "") -> None:
        """After ``after`` more calls are served normally, the next ``times`` calls (health included) answer
        ``status`` with a plain-text body (and ``Retry-After`` when given). ``method``/``path`` (a prefix)
        narrow which calls count."""
        with self._lock:
            ra = None if retry_after is None else (f"{retry_after:g}" if isinstance(retry_after, float)
                                                   else str(retry_after))
            self._faults.append(_Fault(status, times, ra, text, after, 0.0, method, path))

    def clear_faults(self) -> None:
        """Forget every fault not yet served (down/refuse_key are undone by up/refuse_key(False))."""
        with self._lock:
            self._faults.clear()

    def stall(self, seconds: float, *, times: int = 1, method: str | None = None, path: str = "") -> None:
        """The next ``times`` calls (of ``method`` on ``path``..., when given) are served normally, but only
        after ``seconds``: a client timeout then loses an answer to a request that was carried out."""
        with self._lock:
            self._faults.append(_Fault(200, times, None, "", 0, seconds, method, path))

    def refuse_key(self, refuse: bool = True) -> None:
        """Answer 401 to every call but health, whatever key is sent (an expired key at a gateway)."""
        self._refuse_key = refuse

    # -- counts ------------------------------------------------------------------------------------------

    @property
    def writes(self) -> int:
        """Write calls received (POST/PUT/PATCH/DELETE)."""
        with self._lock:
            return sum(n for (method, _), n in self.requests.items() if method in WRITES)

    @property
    def reads(self) -> int:
        with self._lock:
            return sum(n for (method, _), n in self.requests.items() if method not in WRITES)

    def count(self, method: str | None = None, prefix: str = "") -> int:
        """Calls received of ``method`` (any when None) on paths starting with ``prefix``."""
        with self._lock:
            return sum(n for (m, p), n in self.requests.items()
                       if (method is None or m == method.upper()) and p.startswith(prefix))

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.log.clear()

    # -- serving -----------------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:  # pragma: no cover - subclasses implement it
        raise NotImplementedError

    def _authorized(self, request: Request) -> bool:
        if request.path in self.health_paths:
            return True
        if self._refuse_key:
            return False
        if not self.api_key:
            return True
        auth = request.headers.get("authorization", "")
        return request.headers.get("x-api-key") == self.api_key or auth == f"Bearer {self.api_key}"

    def _next_fault(self, request: Request) -> _Fault | None:
        with self._lock:
            if not self._faults or not self._faults[0].matches(request):
                return None
            fault = self._faults[0]
            if fault.after > 0:
                fault.after -= 1
                return None
            fault.times -= 1
            if fault.times <= 0:
                self._faults.pop(0)
            return fault

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(handler.command, split.path, parse_qs(split.query, keep_blank_values=True),
                          {k.lower(): v for k, v in handler.headers.items()}, body)
        with self._lock:
            self.requests[(request.method, request.path)] += 1
            self.log.append(request)
        fault = self._next_fault(request)
        if fault is not None and fault.stall:
            time.sleep(fault.stall)
            fault = None
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            response = Response(fault.status, headers=headers, text=fault.text)
        elif not self._authorized(request):
            response = self.unauthorized()
        else:
            with self._lock:
                try:
                    response = self.route(request)
                except Exception:  # a bug in the fake answers like an unhandled error in the real service
                    response = Response(500, text="Internal Server Error")
        payload, content_type = response.encode()
        handler.send_response(response.status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if payload:
            handler.wfile.write(payload)

    def unauthorized(self) -> Response:
        return Response(401, {"detail": "Invalid or missing API key"})
