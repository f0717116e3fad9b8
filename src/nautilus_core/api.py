"""``Nautilus``: the library facade. Everything the CLI does is a call here.

Holds the settings, builds the plugin manager and the database engine lazily, and exposes the
jobs as methods. The CLI is a thin layer over this class; applications embed it directly::

    from nautilus_core.api import Nautilus
    app = Nautilus()                # settings from the environment
    app.upgrade_database()          # create/upgrade the schema
    for plugin in app.plugin_info():
        print(plugin.name, plugin.hooks)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic_settings import BaseSettings

from nautilus_core.config import Settings, load_settings
from nautilus_core.errors import ConfigError
from nautilus_core.plugins import PluginInfo, PluginManager, build_plugin_manager
from nautilus_core.types import ClusterProvider

if TYPE_CHECKING:
    from nautilus_core.inventory.pipeline import SyncReport

_Section = TypeVar("_Section", bound=BaseSettings)


class Nautilus:
    """One configured Nautilus: settings + plugins + database."""

    def __init__(self, settings: Settings | None = None, *, plugins: PluginManager | None = None,
                 strict: bool = False) -> None:
        self.settings = settings or load_settings()
        self._plugins = plugins
        self._strict = strict
        self._upgraded: str | None = None
        self._schema: str | None = None

    @property
    def plugins(self) -> PluginManager:
        if self._plugins is None:
            self._plugins = build_plugin_manager(strict=self._strict, disable=self.settings.disable_plugins)
        return self._plugins

    @cached_property
    def engine(self) -> Any:
        """The SQLAlchemy engine for ``settings`` (SQLite file by default)."""
        from nautilus_core.db import engine_from_settings

        return engine_from_settings(self.settings)

    def require_schema(self) -> str:
        """The schema revision, when it is current; read paths call this and never migrate.

        :raises SchemaError: missing, outdated or unknown schema (the message says to run ``nautilus db upgrade``).
        """
        from nautilus_core.db.migrate import require_current

        if self._schema is None:  # once per process: reads are called in loops
            self._schema = require_current(self.engine, self.plugins.migration_locations())
        return self._schema

    def plugin_info(self) -> list[PluginInfo]:
        return self.plugins.info()

    def upgrade_database(self, revision: str = "head") -> str | None:
        """Apply migrations up to ``revision``; idempotent. Returns the revision now current.

        The migrations of plugins' inventory kinds (``Kind.migrations``) are applied with the core's.
        """
        from nautilus_core.db import current_revision, upgrade

        if self._upgraded != revision:  # once per process and revision: every job calls this first
            upgrade(self.engine, revision, locations=self.plugins.migration_locations())
            self._upgraded = revision
        return current_revision(self.engine)

    # ------------------------------------------------------------------ inventory

    def select_providers(self, names: Sequence[str] = ()) -> dict[str, ClusterProvider]:
        """The providers to sync: ``names``, else ``NAUTILUS_PROVIDERS``, else every registered one.

        :raises ConfigError: a name is not registered (the message lists the registered ones).
        """
        registered = {name: reg.obj for name, reg in self.plugins.providers().items()}
        wanted = list(names) or list(self.settings.providers or ()) or list(registered)
        unknown = [n for n in wanted if n not in registered]
        if unknown:
            raise ConfigError(f"unknown provider {', '.join(unknown)}; registered: {', '.join(sorted(registered))}")
        return {n: registered[n] for n in wanted}

    def sync_inventory(self, *, providers: Sequence[str] | Mapping[str, ClusterProvider] = (),
                       contexts: Sequence[str] = (), shard: str | None = None,
                       progress: Callable[[Any], None] | None = None) -> SyncReport:
        """One inventory sync run (``nautilus inventory sync``): discover, enrich, write.

        :param providers: provider names, or provider objects by name (e.g. a kubeconfig provider
            pointed at a specific file); default: every registered/enabled provider.
        :param contexts: only clusters with these names (kubeconfig context names).
        :param shard: ``"i/n"``: only the clusters whose key hashes to shard i of n.
        """
        from nautilus_core.inventory.pipeline import InventorySync, Shard

        chosen = dict(providers) if isinstance(providers, Mapping) else self.select_providers(providers)
        try:
            shard_ = Shard.parse(shard) if shard else None
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        enrichers = {name: reg.obj for name, reg in self.plugins.enrichers().items()}
        kinds = {name: reg.obj for name, reg in self.plugins.kinds().items()}
        self.upgrade_database()
        return InventorySync(
            self.engine, chosen, enrichers, kinds=kinds, contexts=contexts, shard=shard_, progress=progress,
            concurrency=self.settings.inventory_concurrency,
            retention=timedelta(days=self.settings.tombstone_retention_days),
        ).run()

    def inventory(self, kind: str, *, providers: Sequence[str] = (), clusters: Sequence[str] = (),
                  include_deleted: bool = False) -> list[dict[str, Any]]:
        """Rows of ``kind`` (clusters, namespaces, nodes, services) as plain dicts."""
        from nautilus_core.inventory import queries

        readers = {"clusters": queries.clusters, "namespaces": queries.namespaces,
                   "nodes": queries.nodes, "services": queries.services}
        if kind not in readers:
            raise ConfigError(f"unknown inventory kind {kind!r}; one of {', '.join(readers)}")
        self.require_schema()
        return readers[kind](self.engine, providers, clusters, include_deleted=include_deleted)

    def sync_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest sync runs, newest first, each with its per-provider/cluster outcomes."""
        from nautilus_core.inventory import queries

        self.require_schema()
        return queries.runs(self.engine, limit)

    def settings_section(self, cls: type[_Section]) -> _Section:
        """A plugin's validated settings section (``nautilus_register_settings``), typed.

        :raises ConfigError: a value of a registered section is invalid (naming the variable).
        :raises PluginError: no plugin registered ``cls``.
        """
        return self.plugins.settings_section(cls)

    # ------------------------------------------------------------------ controller

    def kube(self) -> Any:
        """An API client from the settings: in-cluster (IN_CLUSTER) or the kubeconfig (KUBECONFIG)."""
        from nautilus_core.kube import RetryPolicy, connect
        from nautilus_core.kube.connect import timeout_from

        retry, timeout = RetryPolicy.from_settings(self.settings), timeout_from(self.settings)
        if self.settings.in_cluster:
            return connect(in_cluster=True, retry=retry, timeout=timeout)
        return connect(kubeconfig=self.settings.kubeconfig, retry=retry, timeout=timeout)

    def install_scaling_crds(self, kube: Any = None) -> list[str]:
        """``nautilus scaling install-crd``: server-side apply both IntelligentScaling CRDs; their names."""
        from nautilus_core.scaling.model import crds
        from nautilus_core.scaling.operator import install_crds

        client = kube or self.kube()
        try:
            install_crds(client)
            return [crd["metadata"]["name"] for crd in crds()]
        finally:
            if kube is None:
                client.close()

    def controller(self, reconcilers: Sequence[str] = (), *, kube: Any = None, **options: Any) -> Any:
        """A :class:`~nautilus_core.controller.runtime.ControllerRuntime` for the named reconcilers
        (default: all registered); ``options`` go to the runtime (identity, leader_election, ...)."""
        from nautilus_core.controller.runtime import ControllerRuntime

        registered = {name: reg.obj for name, reg in self.plugins.reconcilers().items()}
        wanted = list(reconcilers) or list(registered)
        unknown = [n for n in wanted if n not in registered]
        if unknown:
            raise ConfigError(f"unknown reconciler {', '.join(unknown)}; registered: {', '.join(sorted(registered))}")
        self.upgrade_database()
        options.setdefault("plugins", self.plugins)
        if not reconcilers:  # "every registered one": those that cannot run here (no CRD) are skipped
            options.setdefault("optional", set(wanted))
        return ControllerRuntime(settings=self.settings, engine=self.engine, kube=kube or self.kube(),
                                 reconcilers={n: registered[n] for n in wanted}, **options)

    def run_controller(self, reconcilers: Sequence[str] = (), **options: Any) -> int:
        """``nautilus controller run``: run until SIGTERM/SIGINT, then drain and exit 0."""
        return int(self.controller(reconcilers, **options).run())

    def retry_resource(self, key: str) -> bool:
        """Clear the failed/parked mark of managed resource ``team/name`` so the controller retries it."""
        from nautilus_core.reconcilers.statefulsets.store import ResourceStore

        self.upgrade_database()
        return ResourceStore(self.engine, actor="cli").unpark(key)

    def demo(self, clusters: int = 3) -> Any:
        """Sync an emulated fleet into the configured database (``nautilus demo``)."""
        from nautilus_core.demo import run_demo

        return run_demo(self, clusters=clusters)

    def serve_demo(self, clusters: int = 1, *, port: int = 8000, **options: Any) -> int:
        """``nautilus demo --serve``: collect an emulated fleet and serve the pod triage dashboard on
        127.0.0.1:``port`` until SIGTERM/SIGINT (``options``: see :func:`nautilus_core.demo.serve_demo`)."""
        from nautilus_core.demo import serve_demo

        return serve_demo(self, clusters=clusters, port=port, **options)

    # ------------------------------------------------------------------ pod triage

    def podwatch_collector(self, *, providers: Sequence[str] | Mapping[str, ClusterProvider] = (),
                           contexts: Sequence[str] = (), namespaces: Sequence[str] | None = None) -> Any:
        """A pod triage collector (``nautilus podwatch collect``) over the inventory's providers.

        :param providers: provider names, or provider objects by name; default as for the inventory.
        :param contexts: only clusters with these names (kubeconfig context names).
        :param namespaces: namespaces to collect (``["*"]``: all); default ``TARGET_NAMESPACE``.
        """
        from nautilus_core.podwatch.collect import Collector
        from nautilus_core.podwatch.settings import PodwatchSettings

        chosen = dict(providers) if isinstance(providers, Mapping) else self.select_providers(providers)
        settings = self.settings_section(PodwatchSettings)
        self.upgrade_database()
        return Collector(self.engine, chosen, settings, contexts=contexts, namespaces=namespaces)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()

    def __enter__(self) -> Nautilus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
