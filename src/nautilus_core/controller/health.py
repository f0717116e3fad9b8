"""Liveness/readiness probes and the Prometheus scrape endpoint, on small stdlib HTTP servers.

Owns :class:`HealthServer` (``/healthz``, ``/readyz``, and ``/metrics`` when given the metrics),
:class:`MetricsServer` (``/metrics``) and :func:`combine_checks`. The controller runtime
(``controller/runtime.py``) starts them on ``Settings.health_check_port`` and ``Settings.metrics_port``
(one :class:`HealthServer` serving all three paths when the ports are equal) and stops them on shutdown.

Each server is a ``ThreadingHTTPServer`` run by a daemon thread; it binds 127.0.0.1 unless told
otherwise, accepts port 0 (then :attr:`port` is the port the system chose) and binds in :meth:`start`,
not in the constructor. A check that raises is reported failed with the exception text; every message
goes through :func:`~nautilus_core.logs.redact_text`. Request logs go to structlog at debug level.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import structlog

from nautilus_core.controller.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from nautilus_core.controller.metrics import ControllerMetrics
from nautilus_core.logs import redact_text

__all__ = ["Check", "CheckResult", "HealthServer", "Liveness", "MetricsServer", "Readiness", "combine_checks"]

log = structlog.get_logger(__name__)

CheckResult = tuple[bool, str]
#: One check: ``(ok, message)``.
Check = Callable[[], CheckResult]
#: ``/healthz``: ``(alive, reason)``.
Liveness = Callable[[], CheckResult]
#: ``/readyz``: ``(ready, {check name: (ok, message)})``.
Readiness = Callable[[], tuple[bool, dict[str, CheckResult]]]

_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"
# A client that connects and sends nothing must not hold a request thread (and stop()) forever.
_REQUEST_TIMEOUT = 10.0

Response = tuple[int, str, bytes]


def _describe(exc: BaseException) -> str:
    return redact_text(f"{type(exc).__name__}: {exc}")


def combine_checks(checks: Mapping[str, Check]) -> Readiness:
    """A readiness callable running each named check on its own: one that raises fails alone.

    Example::

        readiness = combine_checks({"database": db_ok, "kubernetes": api_ok, "informers": synced})
    """
    named = dict(checks)

    def readiness() -> tuple[bool, dict[str, CheckResult]]:
        results: dict[str, CheckResult] = {}
        for name, check in named.items():
            try:
                ok, message = check()
            except Exception as exc:
                ok, message = False, f"check raised {_describe(exc)}"
            results[name] = (bool(ok), str(message))
        return all(ok for ok, _ in results.values()), results

    return readiness


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False   # request threads are joined by server_close(), so stop() leaks none
    block_on_close = True
    routes: dict[str, Callable[[str], Response]]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Typically a client that went away mid-response; never print a traceback to stderr.
        log.debug("http_request_failed", client=str(client_address), exc_info=True)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    timeout = _REQUEST_TIMEOUT
    server_version = "nautilus"

    def do_GET(self) -> None:
        self._respond(with_body=True)

    def do_HEAD(self) -> None:
        self._respond(with_body=False)

    def _respond(self, *, with_body: bool) -> None:
        url = urlsplit(self.path)
        route = self.server.routes.get(url.path)
        if route is None:
            status, content_type, body = 404, _TEXT, b"not found\n"
        else:
            try:
                status, content_type, body = route(url.query)
            except Exception as exc:  # a bug in a route: answer, keep serving
                status, content_type, body = 500, _TEXT, (_describe(exc) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http_request", client=self.client_address[0], message=format % args)


class _Server:
    """Start/stop, port and context-manager plumbing shared by both servers."""

    _kind = "http"

    def __init__(self, host: str, port: int) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"{self._kind} server: port must be 0-65535, got {port}")
        self.host = host
        self._port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _routes(self) -> dict[str, Callable[[str], Response]]:
        raise NotImplementedError

    @property
    def port(self) -> int:
        """The bound port while running (the chosen one for port 0), else the configured port."""
        httpd = self._httpd
        return int(httpd.server_address[1]) if httpd is not None else self._port

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Bind and serve in a daemon thread. :raises OSError: if the address is in use."""
        with self._lock:
            if self._httpd is not None:
                raise RuntimeError(f"{self._kind} server already running on {self.url}")
            httpd_cls = _HTTPServer6 if ":" in self.host else _HTTPServer
            httpd = httpd_cls((self.host, self._port), _Handler)
            httpd.routes = self._routes()
            self._httpd = httpd
            self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                            name=f"nautilus-{self._kind}-{self.port}", daemon=True)
            self._thread.start()
        log.debug("http_server_started", kind=self._kind, url=self.url, paths=sorted(httpd.routes))
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the threads. Idempotent."""
        with self._lock:
            httpd, thread = self._httpd, self._thread
            if httpd is None:
                return
            httpd.shutdown()
            httpd.server_close()
            if thread is not None:
                thread.join()
            self._httpd = self._thread = None
        log.debug("http_server_stopped", kind=self._kind)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _metrics_route(metrics: ControllerMetrics) -> Callable[[str], Response]:
    def route(query: str) -> Response:
        return 200, METRICS_CONTENT_TYPE, metrics.render()
    return route


class HealthServer(_Server):
    """``/healthz`` (200 ``ok`` / 500 reason) and ``/readyz`` (200 / 503, JSON of every check).

    :param liveness: ``() -> (alive, reason)``; ``None`` means always alive.
    :param readiness: ``() -> (ready, {name: (ok, message)})``, e.g. from :func:`combine_checks`;
        ``None`` means always ready. ``/readyz`` answers 200 only if ``ready`` and every check is ok;
        the body is ``{"database": {"ok": false, "message": "..."}, ...}`` either way.
    :param metrics: also serve ``/metrics`` (when the health and metrics ports are the same).
    """

    _kind = "health"

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, liveness: Liveness | None = None,
                 readiness: Readiness | None = None, *, metrics: ControllerMetrics | None = None) -> None:
        super().__init__(host, port)
        self._liveness = liveness
        self._readiness = readiness
        self._metrics = metrics

    def _routes(self) -> dict[str, Callable[[str], Response]]:
        # /ready too: the path the intelligent-scaling operator's seed served readiness on
        routes: dict[str, Callable[[str], Response]] = {"/healthz": self._healthz, "/readyz": self._readyz,
                                                        "/ready": self._readyz}
        if self._metrics is not None:
            routes["/metrics"] = _metrics_route(self._metrics)
        return routes

    def _healthz(self, query: str = "") -> Response:
        """200 ``ok`` (``?verbose``: followed by what was checked) or 500 with the reason."""
        if self._liveness is None:
            return 200, _TEXT, b"ok\n"
        try:
            alive, reason = self._liveness()
        except Exception as exc:
            alive, reason = False, f"liveness check raised {_describe(exc)}"
        if alive:
            verbose = "verbose" in parse_qs(query, keep_blank_values=True)
            return 200, _TEXT, (b"ok\n" + (redact_text(str(reason)) + "\n").encode() if verbose else b"ok\n")
        return 500, _TEXT, (redact_text(str(reason) or "not alive") + "\n").encode()

    def _readyz(self, query: str = "") -> Response:
        checks: dict[str, CheckResult]
        if self._readiness is None:
            ready, checks = True, {}
        else:
            try:
                ready, checks = self._readiness()
            except Exception as exc:
                ready, checks = False, {"readiness": (False, f"readiness check raised {_describe(exc)}")}
        body = {str(name): {"ok": bool(ok), "message": redact_text(str(message))}
                for name, (ok, message) in checks.items()}
        ready = bool(ready) and all(entry["ok"] for entry in body.values())
        return (200 if ready else 503), _JSON, json.dumps(body, sort_keys=True).encode() + b"\n"


class MetricsServer(_Server):
    """``/metrics``: the Prometheus text format of ``metrics`` (``text/plain; version=0.0.4``)."""

    _kind = "metrics"

    def __init__(self, host: str = "127.0.0.1", port: int = 9090, *, metrics: ControllerMetrics) -> None:
        super().__init__(host, port)
        self._metrics = metrics

    def _routes(self) -> dict[str, Callable[[str], Response]]:
        return {"/metrics": _metrics_route(self._metrics)}
