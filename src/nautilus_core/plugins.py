"""Plugin loading and the registry of everything plugins register.

``build_plugin_manager()`` is the only way to get one (no import-time global): built-in plugins
first, then entry points of the group ``nautilus``, then ``check_pending()``. Registration hooks are
called per implementation, names are checked, duplicates rejected naming both plugins, and every
object is attributed to the plugin that registered it. Called by the CLI, the ``Nautilus`` facade
and tests.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Generic, TypeVar

import click
import pluggy
import structlog
from pydantic_settings import BaseSettings

from nautilus_core import hookspecs
from nautilus_core.config import load_section, plugin_settings, section_env_prefix, section_name
from nautilus_core.errors import ConfigError, PluginError
from nautilus_core.types import (
    ClusterProvider,
    Enricher,
    Kind,
    ReconcilerFactory,
    ScalingEngine,
    column_owners,
    contributes,
)

log = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "nautilus"
DISABLE_ENV = "NAUTILUS_DISABLE_PLUGINS"

#: Built-in plugins: (plugin name, module). Imported lazily so ``nautilus --help`` stays fast.
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("inventory", "nautilus_core.inventory.builtin"),
    ("statefulsets", "nautilus_core.reconcilers.statefulsets"),
    ("intelligent-scaling", "nautilus_core.scaling.plugin"),
    ("podwatch", "nautilus_core.podwatch.plugin"),
)

T = TypeVar("T")
S = TypeVar("S", bound=BaseSettings)

#: Told of every call of a hook implementation, as ``observer(hook, plugin, builtin)``, before the
#: call. Empty in production; the test suite records which hooks its tests call, with which plugins.
HOOK_CALL_OBSERVERS: list[Callable[[str, str, bool], None]] = []


@dataclass(frozen=True)
class Registration(Generic[T]):
    """One registered object and the plugin that registered it."""

    name: str
    obj: T
    plugin: str


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    builtin: bool
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class LoadFailure:
    name: str
    distribution: str
    error: str


@dataclass
class PluginManager:
    """A pluggy manager plus what was loaded, what failed, and the registries built from hooks."""

    pm: pluggy.PluginManager
    strict: bool = False
    failures: list[LoadFailure] = field(default_factory=list)
    _dists: dict[str, tuple[str, str, bool]] = field(default_factory=dict)
    _cache: dict[str, dict[str, Registration[Any]]] = field(default_factory=dict)
    _sections: dict[type[BaseSettings], BaseSettings] | None = None

    @property
    def hook(self) -> Any:
        return self.pm.hook

    # ------------------------------------------------------------------ loading

    def add(self, name: str, plugin: object, *, distribution: str, version: str, builtin: bool) -> None:
        """Register a plugin object (module or instance) under ``name``."""
        if self.pm.has_plugin(name):
            other = self._dists.get(name, ("?", "?", False))[0]
            raise PluginError(
                f"plugin name {name!r} is taken twice: by {other} and by {distribution}", plugin=name
            )
        self.pm.register(plugin, name=name)
        self._dists[name] = (distribution, version, builtin)
        self._cache.clear()
        self._sections = None

    def remove(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._dists.pop(name, None)
        self._cache.clear()
        self._sections = None

    def info(self) -> list[PluginInfo]:
        out = []
        for name, plugin in self.pm.list_name_plugin():
            dist, version, builtin = self._dists.get(name, ("?", "?", False))
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or ()))
            out.append(PluginInfo(name, dist, version, builtin, hooks))
        return sorted(out, key=lambda p: (not p.builtin, p.name))

    # ------------------------------------------------------------------ registries

    def _collect(self, hook_name: str, make: Callable[[tuple[Any, ...]], tuple[Any, Any]]) -> dict[str, Any]:
        if hook_name in self._cache:
            return self._cache[hook_name]
        found: dict[str, Registration[Any]] = {}
        caller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():
            plugin_name = impl.plugin_name

            def register(*args: Any, _plugin: str = plugin_name) -> None:
                name, obj = make(args)
                if not isinstance(name, str) or not name:
                    raise PluginError(f"plugin {_plugin} registered an object without a name: {obj!r}",
                                      plugin=_plugin, hook=hook_name)
                if name in found:
                    raise PluginError(
                        f"{hook_name}: name {name!r} registered by both {found[name].plugin} and {_plugin}",
                        plugin=_plugin, hook=hook_name,
                    )
                found[name] = Registration(name, obj, _plugin)

            self._call_impl(impl, hook_name, register=register)
        self._cache[hook_name] = found
        return found

    def _call_impl(self, impl: Any, hook_name: str, **kwargs: Any) -> None:
        builtin = self._dists.get(impl.plugin_name, ("", "", False))[2]
        for observe in HOOK_CALL_OBSERVERS:
            observe(hook_name, impl.plugin_name, builtin)
        try:
            impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
        except PluginError as exc:
            # Duplicate names are a configuration problem of the installed set: always fatal.
            raise exc
        except Exception as exc:
            if builtin or self.strict:
                raise PluginError(f"plugin {impl.plugin_name} failed in {hook_name}: {exc}",
                                  plugin=impl.plugin_name, hook=hook_name) from exc
            log.warning("plugin_hook_failed", plugin=impl.plugin_name, hook=hook_name, error=str(exc))
            self.failures.append(LoadFailure(impl.plugin_name, self._dists[impl.plugin_name][0], str(exc)))

    def providers(self) -> dict[str, Registration[ClusterProvider]]:
        return self._collect("nautilus_register_providers", lambda a: (getattr(a[0], "name", None), a[0]))

    def enrichers(self) -> dict[str, Registration[Enricher]]:
        """The enrichers; the columns they contribute are checked against the registered kinds.

        :raises PluginError: an enricher contributes to a kind or column that does not exist, or
            claims a column another enricher claims (the message names both plugins).
        """
        found: dict[str, Registration[Enricher]] = self._collect(
            "nautilus_register_enrichers", lambda a: (getattr(a[0], "name", None), a[0]))
        kinds = {name: reg.obj for name, reg in self.kinds().items()}
        owner = {f"enricher {r.name!r} of plugin {r.plugin}": r.plugin for r in found.values()}
        try:
            column_owners(zip(owner, (contributes(r.obj) for r in found.values()), strict=True), kinds)
        except ValueError as exc:
            text = str(exc)
            culprit = max(owner, key=text.rfind)  # the owner named last is the one that clashed
            raise PluginError(f"nautilus_register_enrichers: {text}", plugin=owner[culprit],
                              hook="nautilus_register_enrichers") from None
        return found

    def kinds(self) -> dict[str, Registration[Kind]]:
        """The inventory kinds: built-in namespaces, nodes and services, and plugins' own."""
        found: dict[str, Registration[Kind]] = self._collect(
            "nautilus_register_kinds", lambda a: (getattr(a[0], "name", None), a[0]))
        by_table: dict[str, list[Registration[Kind]]] = {}
        for reg in found.values():
            problem = _kind_problem(reg.obj)
            if problem:
                raise PluginError(f"plugin {reg.plugin} registered kind {reg.name!r}: {problem}",
                                  plugin=reg.plugin, hook="nautilus_register_kinds")
            by_table.setdefault(reg.obj.table.name, []).append(reg)
        for table, regs in by_table.items():
            if len(regs) > 1:
                first, second = regs[:2]
                raise PluginError(f"nautilus_register_kinds: table {table!r} is used by kind {first.name!r} of "
                                  f"{first.plugin} and by kind {second.name!r} of {second.plugin}",
                                  plugin=second.plugin, hook="nautilus_register_kinds")
        return found

    def migration_locations(self) -> list[str]:
        """The migration directories of the registered kinds (``nautilus db upgrade`` adds them)."""
        return [reg.obj.migrations for reg in self.kinds().values() if reg.obj.migrations]

    def reconcilers(self) -> dict[str, Registration[ReconcilerFactory]]:
        return self._collect("nautilus_register_reconcilers", lambda a: (a[0], a[1]))

    def scaling_engines(self) -> dict[str, Registration[ScalingEngine]]:
        return self._collect("nautilus_register_scaling_engines",
                             lambda a: (getattr(a[0], "name", None), a[0]))

    def web_routes(self) -> dict[str, Registration[Any]]:
        """The dashboard routers plugins registered (``nautilus_register_web_routes``), by path segment.

        :raises PluginError: a name that is not a lower-case path segment (naming the plugin).
        """
        found: dict[str, Registration[Any]] = self._collect("nautilus_register_web_routes", lambda a: (a[0], a[1]))
        for reg in found.values():
            if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", reg.name):
                raise PluginError(f"plugin {reg.plugin} registered web routes named {reg.name!r}: expected a "
                                  "lower-case path segment (letters, digits, '-')", plugin=reg.plugin,
                                  hook="nautilus_register_web_routes")
        return found

    def settings_sections(self) -> dict[str, Registration[type[BaseSettings]]]:
        """Every registered settings class by section name; a shared prefix or name names both plugins."""
        found: dict[str, Registration[type[BaseSettings]]] = self._collect(
            "nautilus_register_settings", _settings_entry)
        prefixes: dict[str, Registration[type[BaseSettings]]] = {}
        for reg in found.values():
            prefix = section_env_prefix(reg.obj)
            if prefix in prefixes:
                other = prefixes[prefix]
                raise PluginError(f"nautilus_register_settings: env prefix {prefix!r} registered by both "
                                  f"{other.plugin} ({other.obj.__name__}) and {reg.plugin} ({reg.obj.__name__})",
                                  plugin=reg.plugin, hook="nautilus_register_settings")
            prefixes[prefix] = reg
        return found

    def validate_settings(self) -> None:
        """Read and validate every registered section once (the CLI does it at start-up).

        :raises ConfigError: one message naming every bad variable of every section.
        """
        if self._sections is not None:
            return
        sections: dict[type[BaseSettings], BaseSettings] = {}
        problems = []
        for reg in self.settings_sections().values():
            try:
                sections[reg.obj] = load_section(reg.obj)
            except ConfigError as exc:
                problems.append(str(exc).removeprefix("invalid setting: ") + f" (plugin {reg.plugin})")
        if problems:
            raise ConfigError("invalid setting: " + "; ".join(problems))
        self._sections = sections

    def settings_section(self, cls: type[S]) -> S:
        """The validated values of a registered settings section, typed.

        :raises ConfigError: a value of some section is invalid.
        :raises PluginError: no plugin registered ``cls``.
        """
        self.validate_settings()
        assert self._sections is not None
        section = self._sections.get(cls)
        if not isinstance(section, cls):
            raise PluginError(f"settings section {cls.__name__} is not registered by any plugin "
                              "(nautilus_register_settings)", hook="nautilus_register_settings")
        return section

    def register_commands(self, cli: Any) -> None:
        """Let every plugin add commands; a name clash names both plugins."""
        owners = {name: "nautilus-core" for name in cli.commands}
        for impl in self.pm.hook.nautilus_register_commands.get_hookimpls():
            before = set(cli.commands)
            guard = _GuardedGroup(cli, owners, impl.plugin_name)
            self._call_impl(impl, "nautilus_register_commands", cli=guard)
            for name in set(cli.commands) - before:
                owners[name] = impl.plugin_name


def _settings_entry(args: tuple[Any, ...]) -> tuple[str, type[BaseSettings]]:
    cls = args[0]
    if not (isinstance(cls, type) and issubclass(cls, BaseSettings)):
        raise PluginError(f"nautilus_register_settings: {cls!r} is not a pydantic-settings class",
                          hook="nautilus_register_settings")
    if not section_env_prefix(cls):
        raise PluginError(f"nautilus_register_settings: {cls.__name__} has no env_prefix "
                          "(model_config = SettingsConfigDict(env_prefix=...))", hook="nautilus_register_settings")
    return section_name(cls), cls


class _GuardedGroup:
    """A view of the click group that refuses to replace a command another plugin added."""

    def __init__(self, group: Any, owners: dict[str, str], plugin: str) -> None:
        self._group, self._owners, self._plugin = group, owners, plugin

    def add_command(self, cmd: Any, name: str | None = None) -> None:
        name = name or cmd.name
        if name in self._group.commands:
            raise PluginError(
                f"command {name!r} is added by both {self._owners.get(name, '?')} and {self._plugin}",
                plugin=self._plugin, hook="nautilus_register_commands",
            )
        self._group.add_command(cmd, name)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        """``@cli.command(...)`` (or bare ``@cli.command``): built by click, added through the guard."""
        return self._decorate(click.command, args, kwargs)

    def group(self, *args: Any, **kwargs: Any) -> Any:
        """``@cli.group(...)`` (or bare ``@cli.group``): built by click, added through the guard."""
        return self._decorate(click.group, args, kwargs)

    def _decorate(self, make: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:  # used without parentheses
            cmd = make(args[0])
            self.add_command(cmd)
            return cmd

        def decorator(fn: Callable[..., Any]) -> Any:
            cmd = make(*args, **kwargs)(fn)
            self.add_command(cmd)
            return cmd
        return decorator

    def __getattr__(self, item: str) -> Any:
        return getattr(self._group, item)


def _kind_problem(kind: Any) -> str | None:
    """What is wrong with a registered kind (``None``: nothing)."""
    if not isinstance(kind, Kind):
        return f"expected a nautilus_core.Kind, got {type(kind).__name__}"
    columns = getattr(getattr(kind.table, "columns", None), "keys", lambda: None)()
    if columns is None:
        return f"table: expected a sqlalchemy Table, got {type(kind.table).__name__}"
    if not kind.key or not all(isinstance(k, str) for k in kind.key):
        return "key: expected a non-empty tuple of column names"
    needed = ("id", "cluster_id", "data_hash", "first_seen_at", "last_seen_at", "deleted_at", *kind.key)
    missing = [c for c in needed if c not in columns]
    if missing:
        return f"table {kind.table.name!r} lacks column(s) {', '.join(missing)}"
    if kind.row is not None and not callable(kind.row):
        return "row: expected a callable mapping one item to column values"
    return None


def disabled_plugins(value: str | None = None) -> set[str]:
    """Plugin names to skip: ``value`` (comma-separated), else NAUTILUS_DISABLE_PLUGINS (via Settings)."""
    if value is None:
        return set(plugin_settings().disable_plugins)
    return {part.strip() for part in value.split(",") if part.strip()}


def _core_version() -> str:
    try:
        return metadata.version("nautilus-core")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def build_plugin_manager(
    *,
    strict: bool = False,
    entry_points: bool = True,
    builtins: Iterable[tuple[str, str]] = BUILTIN_PLUGINS,
    disable: Iterable[str] | None = None,
) -> PluginManager:
    """Build a plugin manager: built-ins, then entry points (group ``nautilus``), then check.

    :param strict: a third-party plugin that fails to load raises :class:`PluginError` instead of
        being logged once and skipped.
    :param entry_points: load installed plugins (tests of the core alone pass ``False``).
    :param disable: plugin names to skip; defaults to ``NAUTILUS_DISABLE_PLUGINS`` (comma-separated).
    """
    skip = disabled_plugins() if disable is None else set(disable)
    manager = PluginManager(pluggy.PluginManager(hookspecs.PROJECT), strict=strict)
    manager.pm.add_hookspecs(hookspecs)
    version = _core_version()
    for name, module in builtins:
        if name in skip:
            continue
        # A built-in that fails to import is a bug in Nautilus: let it raise.
        manager.add(name, importlib.import_module(module), distribution="nautilus-core",
                    version=version, builtin=True)
    if entry_points:
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in skip:
                continue
            dist = ep.dist.name if ep.dist else "?"
            dist_version = ep.dist.version if ep.dist else "?"
            try:
                plugin = ep.load()
            except Exception as exc:
                message = f"plugin {ep.name} ({dist}) failed to load: {type(exc).__name__}: {exc}"
                if strict:
                    raise PluginError(message, plugin=ep.name) from exc
                log.warning("plugin_load_failed", plugin=ep.name, distribution=dist,
                            error=f"{type(exc).__name__}: {exc}")
                manager.failures.append(LoadFailure(ep.name, dist, f"{type(exc).__name__}: {exc}"))
                continue
            manager.add(ep.name, plugin, distribution=dist, version=dist_version, builtin=False)
    try:
        manager.pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r} implements an unknown hook: {exc}") from exc
    return manager
