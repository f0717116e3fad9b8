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

from functools import cached_property
from typing import Any

from nautilus_core.config import Settings, load_settings
from nautilus_core.plugins import PluginInfo, PluginManager, build_plugin_manager


class Nautilus:
    """One configured Nautilus: settings + plugins + database."""

    def __init__(self, settings: Settings | None = None, *, plugins: PluginManager | None = None,
                 strict: bool = False) -> None:
        self.settings = settings or load_settings()
        self._plugins = plugins
        self._strict = strict

    @property
    def plugins(self) -> PluginManager:
        if self._plugins is None:
            self._plugins = build_plugin_manager(strict=self._strict)
        return self._plugins

    @cached_property
    def engine(self) -> Any:
        """The SQLAlchemy engine for ``settings`` (SQLite file by default)."""
        from nautilus_core.db import engine_from_settings

        return engine_from_settings(self.settings)

    def plugin_info(self) -> list[PluginInfo]:
        return self.plugins.info()

    def upgrade_database(self, revision: str = "head") -> str | None:
        """Apply migrations up to ``revision``; idempotent. Returns the revision now current."""
        from nautilus_core.db import current_revision, upgrade

        upgrade(self.engine, revision)
        return current_revision(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()

    def __enter__(self) -> Nautilus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
