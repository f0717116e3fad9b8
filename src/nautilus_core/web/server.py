"""The dashboard as a runnable of the engine v2 manager, and ``podwatch serve`` around it.

Owns :class:`WebServer`: a :class:`~nautilus_core.controller.manager.Runnable` that serves an ASGI
app with uvicorn on a socket it binds itself (port 0 is allowed; :attr:`WebServer.port` is the port
bound) until its token is cancelled, and :func:`serve`, which runs it, with any other runnables
(the podwatch collector for ``serve --collect``), in one
:class:`~nautilus_core.controller.manager.Runnables` until SIGTERM/SIGINT. :func:`check_bind`
refuses to listen beyond loopback without a token. uvicorn's access log is off (request lines
would be logged by uvicorn's own logger, outside structlog); the token is never logged. Called by
``cli/podwatch_commands.py`` (``nautilus podwatch serve``), ``demo`` and tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

import structlog

from nautilus_core.cancellation import CancelToken
from nautilus_core.controller.manager import Runnable, Runnables
from nautilus_core.errors import ConfigError
from nautilus_core.web.app import WebOptions, create_app

__all__ = ["WebServer", "check_bind", "serve"]

log = structlog.get_logger(__name__)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, *, allow_unauthenticated: bool = False) -> None:
    """Without a token only a loopback address may be bound (unless explicitly allowed).

    :raises ConfigError: ``host`` is not loopback, there is no token, and it was not allowed.
    """
    if not token and not _loopback(host) and not allow_unauthenticated:
        raise ConfigError(f"refusing to serve the dashboard on {host} without PODWATCH_TOKEN: set a token, "
                          "bind 127.0.0.1, or pass --insecure (only behind an authenticating proxy)")


class WebServer:
    """Serves ``app`` on ``host:port`` until cancelled (``name`` is what ``/healthz`` lists)."""

    name = "web"
    restart_backoff = (1.0, 30.0)

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 8080, *, threads: int = 8) -> None:
        self.app = app
        #: worker threads for the synchronous handlers (database reads); few are enough and keep RSS low
        self.threads = threads
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None
        self.started = threading.Event()

    def bind(self) -> int:
        """Bind the listening socket now (so the port is known before :meth:`run`); returns the port."""
        if self._sock is None:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only for such sockets;
            # without it Nagle holds each body behind its headers for the client's delayed ACK (~40 ms)
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self.port))
            except OSError as exc:
                sock.close()
                raise ConfigError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from None
            sock.listen(2048)
            sock.setblocking(False)
            self._sock = sock
            self.port = sock.getsockname()[1]
        return self.port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self, token: CancelToken) -> None:
        import uvicorn

        self.bind()
        assert self._sock is not None
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=5, server_header=False)
        server = uvicorn.Server(config)

        def stop_when_cancelled() -> None:
            token.wait()
            server.should_exit = True

        threading.Thread(target=stop_when_cancelled, name="web-stop", daemon=True).start()
        log.info("web_serving", url=self.url)
        self.started.set()
        sock = self._sock

        async def main() -> None:
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
            await server.serve(sockets=[sock])

        # uvloop and httptools when installed (the web extra asks for them), else asyncio and h11
        factory = config.get_loop_factory() if hasattr(config, "get_loop_factory") else None
        try:
            with asyncio.Runner(loop_factory=factory) as runner:
                runner.run(main())
        finally:
            self.started.clear()
            self._sock.close()
            self._sock = None
        log.info("web_stopped", url=self.url)


def serve(engine: Any, options: WebOptions, *, host: str = "127.0.0.1", port: int = 8000, plugins: Any = None,
          also: Iterable[Runnable] = (), install_signals: bool = True, group: Runnables | None = None,
          on_ready: Callable[[WebServer], None] | None = None) -> int:
    """``podwatch serve``: the dashboard and ``also`` (e.g. the collector) as runnables of one
    manager, until SIGTERM/SIGINT or until ``group``'s token is cancelled; then stop and join
    them. ``/healthz`` reports every runnable. ``on_ready`` gets the server once its port is bound.

    :raises ConfigError: a non-loopback ``host`` without a token, or the address cannot be bound.
    """
    check_bind(host, options.token, allow_unauthenticated=options.allow_unauthenticated)
    group = group or Runnables()
    web = WebServer(create_app(engine, options, plugins=plugins, health=group.health), host, port)
    web.bind()
    group.add(web)
    for runnable in also:
        group.add(runnable)
    if on_ready is not None:
        on_ready(web)
    stop = group.token
    previous: dict[signal.Signals, Any] = {}
    if install_signals and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: stop.cancel("signal"))
    group.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        group.stop("shutting down", timeout=10.0)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("web_serve_stopped", reason=stop.reason)
    return 0
