"""pytest fixtures of the ODA plugin's fake registries (registered by tests/plugins/oda/conftest.py).

``component_registry``
    A running :class:`~nautilus_oda.testing.FakeComponentRegistry` (no API key), fresh per test.
``resource_inventory``
    A running :class:`~nautilus_oda.testing.FakeResourceInventory` (no API key), fresh per test; its
    ``url`` is the TMF639 API root.
Tests that need a key build their own: ``with FakeComponentRegistry(api_key="...") as fake: ...``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nautilus_oda.testing.component_registry import FakeComponentRegistry
from nautilus_oda.testing.resource_inventory import FakeResourceInventory


@pytest.fixture
def component_registry() -> Iterator[FakeComponentRegistry]:
    """A seed Component Registry on 127.0.0.1, empty, for this test."""
    with FakeComponentRegistry() as fake:
        yield fake


@pytest.fixture
def resource_inventory() -> Iterator[FakeResourceInventory]:
    """A TMF639 v5 Resource Inventory on 127.0.0.1, empty, for this test."""
    with FakeResourceInventory() as fake:
        yield fake
