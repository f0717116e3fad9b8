"""Inventory fixtures: an emulated fleet exposed as kubeconfig contexts, and a Nautilus on the test DB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nautilus_core.api import Nautilus
from nautilus_core.config import load_settings
from nautilus_core.inventory.providers import KubeconfigProvider
from nautilus_core.plugins import build_plugin_manager
from nautilus_core.testing import FleetSpec, populate

SMALL = FleetSpec(namespaces=3, pods_per_namespace=12, nodes=4, services=5, logs=False, events=False)


@pytest.fixture(autouse=True)
def _no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAUTILUS_KUBE_RETRIES", "1")
    monkeypatch.setenv("NAUTILUS_KUBE_TIMEOUT", "3")


@pytest.fixture
def app(engine: Any, db_url: str) -> Iterator[Nautilus]:
    """Nautilus on the migrated test database, with only the built-in plugins."""
    nautilus = Nautilus(load_settings(database_url=db_url), plugins=build_plugin_manager(entry_points=False))
    try:
        yield nautilus
    finally:
        nautilus.close()


class Fleet:
    """Two populated emulated clusters and a kubeconfig provider pointing at them."""

    def __init__(self, fleet: Any, path: Path) -> None:
        self.fleet = fleet
        self.summaries = {name: populate(fleet[name], SMALL.__class__(**{**SMALL.__dict__, "seed": i}))
                          for i, name in enumerate(fleet.names)}
        self.kubeconfig = fleet.write_kubeconfig(path)

    def provider(self, name: str = "kubeconfig") -> KubeconfigProvider:
        return KubeconfigProvider(kubeconfig=str(self.kubeconfig), name=name)

    def providers(self) -> dict[str, KubeconfigProvider]:
        return {"kubeconfig": self.provider()}

    def __getitem__(self, name: str) -> Any:
        return self.fleet[name]


@pytest.fixture
def fleet(kube_fleet: Any, tmp_path: Path) -> Fleet:
    return Fleet(kube_fleet(["east", "west"]), tmp_path / "kubeconfig")

