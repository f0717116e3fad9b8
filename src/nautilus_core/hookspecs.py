"""Every hook specification of Nautilus, typed and documented; nothing else lives here.

Registration hooks receive a ``register`` callback. The engine calls each plugin's implementation
on its own (one broken plugin cannot hide the others), checks every name, rejects duplicates with an
error naming both plugins, and remembers which plugin registered what. Registration does no I/O:
the engine calls the registered objects' methods when there is work.
"""

from __future__ import annotations

from collections.abc import Callable

import click
import pluggy
from pydantic_settings import BaseSettings

from nautilus_core.types import ClusterProvider, Enricher, ReconcilerFactory, ScalingEngine

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

    :param register: call it once per enricher with a unique ``name`` and an
        ``enrich(cluster, kube) -> Facts`` method.
    :returns: nothing; every implementation is called.

    Example::

        @hookimpl
        def nautilus_register_enrichers(register):
            register(IngressEnricher())
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
