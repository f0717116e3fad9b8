"""The pod triage dashboard: a FastAPI app serving the HTTP API and the browser UI (optional extra ``web``).

``create_app(engine, WebOptions(...))`` builds the ASGI app (``web.app``); ``WebServer`` serves it as
a runnable of the engine v2 manager (``web.server``), which ``nautilus podwatch serve`` and
``nautilus demo --serve`` run. The app reads the podwatch tables only (``web.queries``); plugins add
routes through ``nautilus_register_web_routes``. Layer: above podwatch and controller, below demo,
api and cli. Importing this package needs fastapi and uvicorn (``pip install 'nautilus-core[web]'``).
"""

from __future__ import annotations

from nautilus_core.web.app import WebOptions, create_app
from nautilus_core.web.server import WebServer, check_bind, serve

__all__ = ["WebOptions", "WebServer", "check_bind", "create_app", "serve"]
