"""The built-in inventory plugin: kubeconfig and in-cluster providers, the four core enrichers, and
the kinds they fill (namespaces, nodes, services).

Listed in ``plugins.BUILTIN_PLUGINS``; registration does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from nautilus_core.hookspecs import hookimpl
from nautilus_core.inventory.enrichers import NamespaceEnricher, NodeEnricher, ServiceEnricher, VersionEnricher
from nautilus_core.inventory.providers import InClusterProvider, KubeconfigProvider
from nautilus_core.types import ClusterProvider, Enricher, Kind


@hookimpl
def nautilus_register_providers(register: Callable[[ClusterProvider], None]) -> None:
    register(KubeconfigProvider())
    register(InClusterProvider())


@hookimpl
def nautilus_register_enrichers(register: Callable[[Enricher], None]) -> None:
    for enricher in (VersionEnricher(), NamespaceEnricher(), ServiceEnricher(), NodeEnricher()):
        register(enricher)


@hookimpl
def nautilus_register_kinds(register: Callable[[Kind], None]) -> None:
    from nautilus_core.inventory.kinds import BUILTIN_KINDS  # the tables: keep `nautilus --help` fast

    for kind in BUILTIN_KINDS.values():
        register(kind)
