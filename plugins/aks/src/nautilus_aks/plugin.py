"""Entry-point module of nautilus-aks: registers the ``aks`` cluster provider and its settings section
(:class:`~nautilus_aks.settings.AksSettings`, NAUTILUS_AKS_*).

Loaded by ``nautilus_core.plugins.build_plugin_manager()`` through the ``nautilus`` entry-point
group. Registration does no I/O and builds no Azure client: the provider creates them on first use.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic_settings import BaseSettings

import nautilus_core
from nautilus_aks.provider import AksProvider
from nautilus_aks.settings import AksSettings
from nautilus_core import ClusterProvider


@nautilus_core.hookimpl
def nautilus_register_providers(register: Callable[[ClusterProvider], None]) -> None:
    register(AksProvider())


@nautilus_core.hookimpl
def nautilus_register_settings(register: Callable[[type[BaseSettings]], None]) -> None:
    register(AksSettings)
