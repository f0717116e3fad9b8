"""Every hook specification of Nautilus, typed and documented; nothing else lives here.

Registration hooks receive a ``register`` callback. The engine calls each plugin's implementation
on its own (one broken plugin cannot hide the others), checks every name, rejects duplicates with an
error naming both plugins, and remembers which plugin registered what. Registration does no I/O:
the engine calls the registered objects' methods when there is work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import pluggy
from pydantic_settings import BaseSettings

from nautilus_core.types import ClusterProvider, Enricher, Kind, ReconcilerFactory, ScalingEngine

PROJECT = "nautilus"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def nautilus_register_providers(register: Callable[[ClusterProvider], None]) -> None:
    """Register cluster providers (clouds, kubeconfig files, ...).

    Called once when the plugin manager is built, before any inventory run.

    :param register: call it once per provider object. The object needs a unique ``name`` (also the
        ``--provider`` value users type), ``discover()`` returning :class:`~nautilus_core.ClusterRef`
        and ``connect(cluster)`` returning a :class:`~nautilus_core.kube.KubeClient`.
    :returns: nothing; every implementation is called.

    Example::

        @hookimpl
        def nautilus_register_providers(register):
            register(EksProvider())
    """


@hookspec
def nautilus_register_enrichers(register: Callable[[Enricher], None]) -> None:
    """Register enrichers that read facts from a cluster's Kubernetes API.

    Called once when the plugin manager is built. During a sync every enricher runs against every
    cluster; one that fails is recorded for that cluster and does not hide the others.

    :param register: call it once per enricher with a unique ``name``, an
        ``enrich(cluster, kube) -> Facts`` method and ``contributes``: the columns it fills, by
        kind (``{"ingresses": ("host", "class_name")}``). Enrichers filling different columns of
        the same kind are merged row by row; a column claimed by two enrichers is an error naming
        both plugins.
    :returns: nothing; every implementation is called.

    Example::

        class IngressEnricher:
            name = "ingresses"
            contributes = {"ingresses": ("host",)}

            def enrich(self, cluster, kube):
                items = kube.list("networking.k8s.io/v1", "ingresses")
                return Facts(rows={"ingresses": [
                    {"namespace": i["metadata"]["namespace"], "name": i["metadata"]["name"],
                     "host": (i["spec"].get("rules") or [{}])[0].get("host")} for i in items]})

        @hookimpl
        def nautilus_register_enrichers(register):
            register(IngressEnricher())
    """


@hookspec
def nautilus_register_kinds(register: Callable[[Kind], None]) -> None:
    """Register kinds of inventory rows (each with its table) that enrichers contribute to.

    Called once when the plugin manager is built, before the enrichers are checked. The built-in
    plugin registers ``namespaces``, ``nodes`` and ``services``. The synchronizer writes every kind
    for every cluster; ``nautilus db upgrade`` applies each kind's ``migrations`` directory, a branch
    of its own next to the core's revisions.

    :param register: call it once per :class:`~nautilus_core.Kind`, with a unique ``name``, its
        ``table`` (a unique table name), its ``key`` columns and optionally a ``row`` mapper and a
        ``migrations`` directory.
    :returns: nothing; every implementation is called.

    Example::

        INGRESS = kind_table("ingress", ("namespace", "name"), Column("host", String))

        @hookimpl
        def nautilus_register_kinds(register):
            register(Kind("ingresses", INGRESS, key=("namespace", "name"),
                          migrations=str(Path(__file__).parent / "migrations")))
    """


@hookspec
def nautilus_register_reconcilers(register: Callable[[str, ReconcilerFactory], None]) -> None:
    """Register reconcilers that the controller runtime can run.

    Called once when the plugin manager is built. ``nautilus controller run -r NAME`` picks them by
    name; the runtime calls the factory with a :class:`~nautilus_core.ControllerContext` (settings,
    database engine, API client) when the controller starts.

    :param register: ``register(name, factory)``; ``factory(context)`` returns an object with
        ``keys()``, ``sources()`` and ``reconcile(key) -> Outcome``.
    :returns: nothing; every implementation is called.

    Example::

        @hookimpl
        def nautilus_register_reconcilers(register):
            register("oda-components", lambda ctx: ComponentReconciler(ctx))
    """


@hookspec
def nautilus_register_scaling_engines(register: Callable[[ScalingEngine], None]) -> None:
    """Register decision engines for ``IntelligentScaling`` resources.

    Called once when the plugin manager is built. A resource names its engine in ``spec.engine``.

    :param register: call it once per engine with a unique ``name`` and a
        ``decide(ScalingInput) -> Decision`` method.
    :returns: nothing; every implementation is called.

    Example::

        @hookimpl
        def nautilus_register_scaling_engines(register):
            register(ThresholdEngine())
    """


@hookspec
def nautilus_register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``nautilus`` command line.

    Called once when the CLI starts, after the built-in commands exist. Adding a command whose
    name is already taken is an error naming both plugins.

    :param cli: the top-level ``nautilus`` group; call ``cli.add_command(...)``.
    :returns: nothing; every implementation is called.

    Example::

        @hookimpl
        def nautilus_register_commands(cli):
            cli.add_command(oda_group)
    """


@hookspec
def nautilus_register_settings(register: Callable[[type[BaseSettings]], None]) -> None:
    """Register the plugin's own settings: a pydantic-settings class read from the environment.

    Called once when the plugin manager is built. Every section is validated once at start-up with
    the core settings (a bad value exits 2 naming the variable); a reconciler reads its section typed
    with ``ctx.settings_section(MySettings)``, other code with ``Nautilus.settings_section``.

    :param register: call it once per class. The class needs its own environment prefix
        (``model_config = SettingsConfigDict(env_prefix="NAUTILUS_ODA_")``); its name is its
        ``section_name: ClassVar[str]``, else the prefix without ``NAUTILUS_`` (``oda``). Two
        plugins registering the same prefix or name is an error naming both.
    :returns: nothing; every implementation is called.

    Example::

        class OdaSettings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="NAUTILUS_ODA_")
            canvas_url: str = "http://localhost:8080"

        @hookimpl
        def nautilus_register_settings(register):
            register(OdaSettings)
    """


@hookspec
def nautilus_register_web_routes(register: Callable[[str, Any], None]) -> None:
    """Add HTTP routes or pages to the pod triage dashboard (``nautilus podwatch serve``).

    Called each time the web app is built (``nautilus_core.web.create_app`` with a plugin manager),
    before it serves. Each router is mounted under ``/plugins/<name>/`` behind the dashboard's
    Content-Security-Policy and bearer token; its handlers may read the database through
    ``request.app.state.engine``. Needs the ``web`` extra (fastapi).

    :param register: ``register(name, router)``: ``name`` is a URL path segment (lower-case letters,
        digits and ``-``), unique across plugins; ``router`` is a ``fastapi.APIRouter``.
    :returns: nothing; every implementation is called.

    Example::

        router = fastapi.APIRouter()

        @router.get("/owners")
        def owners(request: fastapi.Request) -> list[str]:
            return ["team-a", "team-b"]

        @hookimpl
        def nautilus_register_web_routes(register):
            register("owners", router)      # GET /plugins/owners/owners
    """
