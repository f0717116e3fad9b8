"""Entry-point module of nautilus-aks: registers the ``aks`` cluster provider.

Loaded by ``nautilus_core.plugins.build_plugin_manager()`` through the ``nautilus`` entry-point
group. Registration does no I/O and builds no Azure client: the provider creates them on first use.
"""

from __future__ import annotations

from collections.abc import Callable

import nautilus_core
from nautilus_aks.provider import AksProvider
from nautilus_core import ClusterProvider


@nautilus_core.hookimpl
def nautilus_register_providers(register: Callable[[ClusterProvider], None]) -> None:
    register(AksProvider())
