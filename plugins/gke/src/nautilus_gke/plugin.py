"""Entry-point module of nautilus-gke: registers the ``gke`` cluster provider and its settings section
(:class:`~nautilus_gke.settings.GkeSettings`, NAUTILUS_GKE_*).

Loaded by ``nautilus_core.plugins.build_plugin_manager()`` through the ``nautilus`` entry-point
group. Registration does no I/O and builds no Google client: the provider creates it on first use.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic_settings import BaseSettings

import nautilus_core
from nautilus_core import ClusterProvider
from nautilus_gke.provider import GkeProvider
from nautilus_gke.settings import GkeSettings


@nautilus_core.hookimpl
def nautilus_register_providers(register: Callable[[ClusterProvider], None]) -> None:
    register(GkeProvider())


@nautilus_core.hookimpl
def nautilus_register_settings(register: Callable[[type[BaseSettings]], None]) -> None:
    register(GkeSettings)
