"""Entry-point module of nautilus-eks: registers the ``eks`` cluster provider and its settings section
(:class:`~nautilus_eks.settings.EksSettings`, NAUTILUS_EKS_*).

Loaded by ``nautilus_core.plugins.build_plugin_manager()`` through the ``nautilus`` entry-point
group. Registration does no I/O and builds no AWS client: the provider creates them on first use.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic_settings import BaseSettings

import nautilus_core
from nautilus_core import ClusterProvider
from nautilus_eks.provider import EksProvider
from nautilus_eks.settings import EksSettings


@nautilus_core.hookimpl
def nautilus_register_providers(register: Callable[[ClusterProvider], None]) -> None:
    register(EksProvider())


@nautilus_core.hookimpl
def nautilus_register_settings(register: Callable[[type[BaseSettings]], None]) -> None:
    register(EksSettings)
