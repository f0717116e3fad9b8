"""Entry-point module of nautilus-eks: registers the ``eks`` cluster provider.

Loaded by ``nautilus_core.plugins.build_plugin_manager()`` through the ``nautilus`` entry-point
group. Registration does no I/O and builds no AWS client: the provider creates them on first use.
"""

from __future__ import annotations

from collections.abc import Callable

import nautilus_core
from nautilus_core import ClusterProvider
from nautilus_eks.provider import EksProvider


@nautilus_core.hookimpl
def nautilus_register_providers(register: Callable[[ClusterProvider], None]) -> None:
    register(EksProvider())
