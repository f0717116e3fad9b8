"""Shared fixtures of the cloud provider plugin tests.

``http_fake`` serves scripted answers over real HTTP on 127.0.0.1 (used as the GKE and AKS control
planes and for EKS outage answers) and records every request it got, so tests drive the real SDK
clients end to end. The Kubernetes API emulator (``kube_emulator``) comes from the core's pytest
plugin (``nautilus_core.testing``); the connect tests set its ``token``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, Any]  # (status, JSON-able body or bytes)
Handler = Callable[[Request, re.Match[str]], Answer]


@dataclass
class HttpFake:
    """Routes ``(METHOD, path regex)`` to handlers; unknown routes answer 404."""

    url: str = ""
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def route(self, method: str, pattern: str, handler: Handler | Answer) -> None:
        fn = handler if callable(handler) else (lambda _r, _m, _a=handler: _a)
        self.routes.insert(0, (method.upper(), re.compile(pattern + r"\Z"), fn))

    def answer(self, request: Request) -> Answer:
        self.requests.append(request)
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if method == request.method and match:
                return handler(request, match)
        return 404, {"error": {"code": 404, "message": f"no route for {request.method} {request.path}"}}


@pytest.fixture
def http_fake() -> Iterator[HttpFake]:
    fake = HttpFake()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            request = Request(self.command, parts.path, parse_qs(parts.query),
                              {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            status, body = fake.answer(request)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

