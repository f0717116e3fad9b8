"""The dashboard application factory: one FastAPI app serving the pod triage API and its UI.

Owns :class:`WebOptions` (token, the UI's refresh intervals, page size) and :func:`create_app`,
which mounts the API (``web.routes``), the static UI shipped in the package (``web/static``: plain
HTML, CSS and JavaScript, no build step) at ``/`` and ``/static``, and every plugin's routes
(``nautilus_register_web_routes``) under ``/plugins/<name>``, all behind ``web.security``'s
headers and optional bearer token, with ``web.cache`` reusing API answers for ``cache_ttl``
seconds. The app reads the database only. Called by ``web.server``
(the runnable that serves it), the tests and the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from nautilus_core.errors import ConfigError, PluginError, TransientError
from nautilus_core.logs import redact_text
from nautilus_core.web import queries
from nautilus_core.web.cache import ResponseCache
from nautilus_core.web.routes import JSONResponse, router
from nautilus_core.web.security import SecurityMiddleware

__all__ = ["STATIC", "WebOptions", "create_app"]

log = structlog.get_logger(__name__)

STATIC = Path(__file__).with_name("static")
HealthCallable = Callable[[], dict[str, tuple[bool, str]]]


@dataclass(frozen=True)
class WebOptions:
    """How the app behaves. ``token``: bearer token required for API and UI (``PODWATCH_TOKEN``);
    ``pods_refresh`` / ``logs_refresh``: the UI's refresh intervals in seconds (the seed's 30 s and
    10 s; a page may ask for others with ``?pods_refresh=2&logs_refresh=1``)."""

    token: str | None = None
    pods_refresh: float = 30.0
    logs_refresh: float = 10.0
    page_size: int = 100
    #: seconds an API answer is reused for identical requests (``web.cache``); 0: always query
    cache_ttl: float = 1.0
    #: serve beyond loopback without a token (``--insecure``): only behind another authenticating proxy
    allow_unauthenticated: bool = False

    def __post_init__(self) -> None:
        for name in ("pods_refresh", "logs_refresh"):
            value = getattr(self, name)
            if not 0.1 <= value <= 86400:
                raise ConfigError(f"web option {name} must be between 0.1 and 86400 seconds, got {value}")
        if not 0 <= self.cache_ttl <= 60:
            raise ConfigError(f"web option cache_ttl must be between 0 and 60 seconds, got {self.cache_ttl}")
        if not 1 <= self.page_size <= 1000:
            raise ConfigError(f"web option page_size must be between 1 and 1000, got {self.page_size}")

    def __repr__(self) -> str:  # never show the token
        return (f"WebOptions(token={'***' if self.token else None}, pods_refresh={self.pods_refresh}, "
                f"logs_refresh={self.logs_refresh}, page_size={self.page_size}, cache_ttl={self.cache_ttl})")


def create_app(engine: Any, options: WebOptions | None = None, *, plugins: Any = None,
               health: HealthCallable | None = None) -> Any:
    """The ASGI app for ``engine`` (a SQLAlchemy engine on a migrated database).

    :param plugins: a :class:`~nautilus_core.plugins.PluginManager` whose ``nautilus_register_web_routes``
        routers are mounted under ``/plugins/<name>``.
    :param health: extra liveness checks for ``/healthz`` (``{name: (alive, message)}``), e.g. the
        runnables served in the same process.
    """
    options = options or WebOptions()
    app = FastAPI(title="Nautilus pod triage", version="1", docs_url=None, redoc_url=None,
                  description="Pods across the fleet by attention, with their containers, Events and "
                              "classified logs. Reads the podwatch tables only.")
    app.state.engine = engine
    app.state.options = options
    app.state.health = _redacted(health) if health else None
    app.include_router(router)

    @app.exception_handler(TransientError)
    async def database_unavailable(request: Request, exc: TransientError) -> Response:
        # the database is down or unreachable: say so (503, retryable), never a 500 with a traceback
        log.warning("web_database_unavailable", path=request.url.path, error=redact_text(str(exc)))
        return JSONResponse({"detail": "the database is unavailable, try again shortly"}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if plugins is not None:
        for name, reg in plugins.web_routes().items():
            if not hasattr(reg.obj, "routes"):
                raise PluginError(f"plugin {reg.plugin} registered web routes {name!r} that are not a fastapi "
                                  f"APIRouter (got {type(reg.obj).__name__})", plugin=reg.plugin,
                                  hook="nautilus_register_web_routes")
            app.include_router(reg.obj, prefix=f"/plugins/{name}")
            log.debug("web_plugin_routes_mounted", plugin=reg.plugin, name=name)
    cached = ResponseCache(app, options.cache_ttl, version=lambda: queries.data_version(engine))
    return SecurityMiddleware(cached, options.token)


def _redacted(health: HealthCallable) -> HealthCallable:
    def checks() -> dict[str, tuple[bool, str]]:
        try:
            return {name: (ok, redact_text(message)) for name, (ok, message) in health().items()}
        except Exception as exc:
            return {"runnables": (False, redact_text(f"{type(exc).__name__}: {exc}"))}
    return checks
