"""``nautilus demo``: an emulated fleet synced into the default database, then summarised.

Starts several emulated clusters with the test kit (realistic pod states), exposes them as
kubeconfig contexts, runs one inventory sync through the built-in kubeconfig provider and returns
what the database now holds. Called by ``Nautilus.demo``; needs the ``demo`` extra (kmock, aiohttp).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nautilus_core.errors import ConfigError
from nautilus_core.inventory.providers import KubeconfigProvider

if TYPE_CHECKING:
    from nautilus_core.api import Nautilus
    from nautilus_core.inventory.pipeline import SyncReport

DEMO_CLUSTERS = ("demo-eu-west", "demo-us-east", "demo-ap-south")


@dataclass
class DemoResult:
    report: SyncReport
    clusters: list[dict[str, Any]]
    namespaces: list[dict[str, Any]]


def run_demo(app: Nautilus, clusters: int = 3, pods_per_namespace: int = 20) -> DemoResult:
    try:
        from nautilus_core.testing import EmulatedFleet, FleetSpec, populate
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigError(f"nautilus demo needs the emulator: pip install 'nautilus-core[demo]' ({exc})") from None
    names = [DEMO_CLUSTERS[i] if i < len(DEMO_CLUSTERS) else f"demo-{i}" for i in range(clusters)]
    with tempfile.TemporaryDirectory(prefix="nautilus-demo-") as tmp, EmulatedFleet(names) as fleet:
        for i, name in enumerate(names):
            populate(fleet[name], FleetSpec(namespaces=3 + i, pods_per_namespace=pods_per_namespace,
                                            nodes=3 + 2 * i, services=6, seed=i, logs=False, events=False))
        kubeconfig = fleet.write_kubeconfig(Path(tmp) / "kubeconfig")
        provider = KubeconfigProvider(kubeconfig=str(kubeconfig))
        report = app.sync_inventory(providers={provider.name: provider}, contexts=names)
    return DemoResult(report, app.inventory("clusters", clusters=names), app.inventory("namespaces", clusters=names))
