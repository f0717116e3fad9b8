"""Settings reach the controller: a plugin's section through the context (typed), POD_NAMESPACE for the Lease."""

from __future__ import annotations

from typing import ClassVar

from conftest import FAST, until
from pydantic_settings import BaseSettings, SettingsConfigDict

from nautilus_core import BaseReconciler, Outcome, Request, Watch, hookimpl
from nautilus_core.api import Nautilus
from nautilus_core.config import load_settings
from nautilus_core.plugins import build_plugin_manager


class GreeterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NAUTILUS_GREETER_")
    section_name: ClassVar[str] = "greeter"
    greeting: str = "hello"


class Greeter(BaseReconciler):
    """Labels every namespace ``example.com/greeting=<NAUTILUS_GREETER_GREETING>``."""

    name = "greeter"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.section = ctx.settings_section(GreeterSettings)

    def sources(self):
        return [Watch("v1", "namespaces", lambda event, obj: [obj["metadata"]["name"]])]

    def reconcile(self, request: Request) -> Outcome:
        self.ctx.kube.patch("v1", "namespaces", request.key,
                            {"metadata": {"labels": {"example.com/greeting": self.section.greeting}}})
        return Outcome.done()


class GreeterPlugin:
    @hookimpl
    def nautilus_register_settings(self, register):
        register(GreeterSettings)

    @hookimpl
    def nautilus_register_reconcilers(self, register):
        register(Greeter.name, Greeter)


def test_a_reconciler_reads_its_section_through_the_context(db_url, engine, kube, kube_emulator, monkeypatch):
    monkeypatch.setenv("NAUTILUS_GREETER_GREETING", "bonjour")
    plugins = build_plugin_manager(entry_points=False)
    plugins.add("greeter", GreeterPlugin(), distribution="greeter-dist", version="0", builtin=False)
    app = Nautilus(load_settings(database_url=db_url, **FAST), plugins=plugins)
    kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    runtime = app.controller(["greeter"], kube=kube, leader_election=False, identity="greeter",
                             watch_silence_timeout=5.0)
    runtime.start()
    try:
        label = until(lambda: (kube_emulator.get("v1", "namespaces", "team-a")["metadata"].get("labels") or {})
                      .get("example.com/greeting"), what="labelled")
        assert label == "bonjour"
        assert isinstance(runtime.reconcilers["greeter"].section, GreeterSettings)
    finally:
        runtime.stop()
        app.close()


def test_the_lease_lives_in_pod_namespace(db_url, engine, kube, monkeypatch):
    monkeypatch.setenv("POD_NAMESPACE", "nautilus-system")
    app = Nautilus(load_settings(database_url=db_url, **FAST), plugins=build_plugin_manager(entry_points=False))
    try:
        assert app.controller(["statefulsets"], kube=kube).lease_namespace == "nautilus-system"
        assert app.controller(["statefulsets"], kube=kube, lease_namespace="ops").lease_namespace == "ops"
    finally:
        app.close()
