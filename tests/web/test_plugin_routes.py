"""Plugins add routes to the dashboard through ``nautilus_register_web_routes``.

A plugin's router is mounted under ``/plugins/<name>``, reads the database through the app, and is
behind the same Content-Security-Policy and bearer token as the core routes; a bad name or an
object that is not a router is an error naming the plugin.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request
from sqlalchemy import text
from web_helpers import serve_app, triage_rows

from nautilus_core import PluginError, hookimpl
from nautilus_core.plugins import build_plugin_manager
from nautilus_core.web import WebOptions, create_app


class OwnersPlugin:
    """A third-party plugin: pods per owner kind, from the same database."""

    def __init__(self, name: str = "owners", router: Any = None) -> None:
        self.name = name
        self.router = router if router is not None else self._router()

    @staticmethod
    def _router() -> APIRouter:
        router = APIRouter()

        @router.get("/kinds")
        def kinds(request: Request) -> dict[str, int]:
            with request.app.state.engine.connect() as conn:
                rows = conn.execute(text("SELECT owner_kind, count(*) FROM pod GROUP BY owner_kind")).all()
            return {kind or "-": n for kind, n in rows}

        return router

    @hookimpl
    def nautilus_register_web_routes(self, register):
        register(self.name, self.router)


def manager_with(plugin: Any) -> Any:
    manager = build_plugin_manager(entry_points=False)
    manager.add("acme-web", plugin, distribution="acme-web", version="1.0", builtin=False)
    return manager


def test_a_plugin_route_is_served_under_its_name_behind_the_token(engine):
    triage_rows(engine)
    manager = manager_with(OwnersPlugin())
    assert manager.web_routes()["owners"].plugin == "acme-web"
    with serve_app(engine, WebOptions(token="plugin-token"), plugins=manager) as url:
        assert httpx.get(url + "/plugins/owners/kinds").status_code in (303, 401)
        response = httpx.get(url + "/plugins/owners/kinds", headers={"Authorization": "Bearer plugin-token"})
        assert response.status_code == 200
        assert response.json() == {"ReplicaSet": 20, "Job": 1}
        assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(("name", "router", "message"), [
    ("Owners/../x", None, "lower-case path segment"),
    ("owners", object(), "not a fastapi APIRouter"),
])
def test_a_bad_registration_names_the_plugin(engine, name, router, message):
    manager = manager_with(OwnersPlugin(name, router))
    with pytest.raises(PluginError, match=message) as caught:
        create_app(engine, plugins=manager)
    assert "acme-web" in str(caught.value)
