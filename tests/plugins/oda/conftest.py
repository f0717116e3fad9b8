"""Fixtures of the ODA plugin tests.

The fake registries (``component_registry``: the seed Component Registry API; ``resource_inventory``: a
TMF639 v5 Resource Inventory) come from :mod:`nautilus_oda.testing.fixtures`; the Kubernetes API
emulator fixtures from the core's pytest plugin. Add further fixtures below (append; do not rewrite).
"""

from __future__ import annotations

from nautilus_oda.testing.fixtures import component_registry, resource_inventory

__all__ = ["component_registry", "resource_inventory"]
