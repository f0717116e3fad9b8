"""Test doubles of the ODA plugin's external services, for its tests, the collector's tests and bench/oda.

``FakeComponentRegistry`` (the seed Component Registry REST API as the Gen-1 service answers) and
``FakeResourceInventory`` (a TMF639 v5 Resource Inventory): real HTTP servers on 127.0.0.1 with an
optional API key, fault injection and request counts. pytest fixtures ``component_registry`` and
``resource_inventory`` live in :mod:`nautilus_oda.testing.fixtures`.
"""

from nautilus_oda.testing.component_registry import FakeComponentRegistry
from nautilus_oda.testing.resource_inventory import FakeResourceInventory
from nautilus_oda.testing.server import LocalServer, Request, Response

__all__ = ["FakeComponentRegistry", "FakeResourceInventory", "LocalServer", "Request", "Response"]
