"""Entry-point module of nautilus-gke: registers the ``gke`` cluster provider.

Loaded by ``nautilus_core.plugins.build_plugin_manager()`` through the ``nautilus`` entry-point
group. Registration does no I/O and builds no Google client: the provider creates it on first use.
"""

from __future__ import annotations

from collections.abc import Callable

import nautilus_core
from nautilus_core import ClusterProvider
from nautilus_gke.provider import GkeProvider


@nautilus_core.hookimpl
def nautilus_register_providers(register: Callable[[ClusterProvider], None]) -> None:
    register(GkeProvider())
