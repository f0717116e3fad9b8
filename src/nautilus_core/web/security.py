"""Security of the dashboard: response headers on every answer, and the optional bearer token.

Owns :class:`SecurityMiddleware` (pure ASGI). Every response gets a strict Content-Security-Policy
(scripts, styles and connections from this origin only, no inline script, no framing), ``nosniff``,
``no-referrer`` and ``no-store``. With a token (``PODWATCH_TOKEN``) every path but ``/healthz``,
``/login`` and the login page's stylesheet needs either ``Authorization: Bearer <token>`` (API
clients) or the session cookie set by ``POST /login`` (browsers): the cookie holds an HMAC of the
token, never the token, and is HttpOnly and SameSite=Strict. A browser without it is sent to the login
page; an API client gets 401 with ``WWW-Authenticate: Bearer``. The token is never logged, echoed or
put in a URL. Installed by ``web.app.create_app``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

__all__ = ["CSP", "SESSION_COOKIE", "SecurityMiddleware", "session_value"]

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SESSION_COOKIE = "podwatch_session"
#: paths served without the token: the liveness probe and what the login page needs
PUBLIC = ("/healthz", "/login", "/static/app.css")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def session_value(token: str) -> str:
    """What the session cookie holds for ``token``: an HMAC, so the cookie never carries the token."""
    return hmac.new(token.encode(), b"nautilus-podwatch-session-v1", hashlib.sha256).hexdigest()


def _login_page(message: str = "") -> bytes:
    note = f'<p class="login-error">{message}</p>' if message else ""  # message is a fixed string of ours
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Pod triage: sign in</title>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        '<link rel=stylesheet href="/static/app.css"></head><body class="login">'
        '<form method=post action="/login" class="login-form"><h1>Pod triage</h1>'
        f"{note}<label>Access token <input type=password name=token autocomplete=current-password "
        "required autofocus></label><button type=submit>Sign in</button></form></body></html>"
    ).encode()


class SecurityMiddleware:
    """Adds the security headers; enforces the token when one is configured."""

    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        self.app = app
        self._token = token or None
        self._session = session_value(token) if token else None

    def _authorized(self, scope: Scope) -> bool:
        if self._token is None:
            return True
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self._token.encode()):
            return True
        for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and self._session and hmac.compare_digest(value.encode(), self._session.encode()):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in _HEADERS if h[0] not in names]
            await send(message)

        path = scope.get("path", "")
        if path == "/login":
            await self._login(scope, receive, send_with_headers)
            return
        if path == "/logout" and scope.get("method") == "POST":
            await _respond(send_with_headers, 303, b"", [(b"location", b"/login" if self._token else b"/"),
                                                          (b"set-cookie", _cookie(scope, "", 0))])
            return
        if path in PUBLIC or self._authorized(scope):
            await self.app(scope, receive, send_with_headers)
            return
        if path.startswith("/api/") or path == "/openapi.json":
            await _respond(send_with_headers, 401, b'{"detail":"a bearer token is required"}',
                           [(b"content-type", b"application/json"), (b"www-authenticate", b'Bearer realm="podwatch"')])
        else:
            await _respond(send_with_headers, 303, b"", [(b"location", b"/login")])

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        html = [(b"content-type", b"text/html; charset=utf-8")]
        if self._token is None:
            await _respond(send, 303, b"", [(b"location", b"/")])
            return
        if scope.get("method") != "POST":
            await _respond(send, 200, _login_page(), html)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > 16384:
                await _respond(send, 413, b"request too large", [(b"content-type", b"text/plain")])
                return
            if not message.get("more_body"):
                break
        given = (parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0]
        if hmac.compare_digest(given.encode(), self._token.encode()):
            assert self._session is not None
            await _respond(send, 303, b"", [(b"location", b"/"), (b"set-cookie", _cookie(scope, self._session))])
        else:
            await _respond(send, 401, _login_page("That token is not valid."), html)


def _cookie(scope: Scope, value: str, max_age: int | None = None) -> bytes:
    parts = [f"{SESSION_COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if scope.get("scheme") == "https":
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts).encode()


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
