"""``nautilus demo``: an emulated fleet synced into the default database, then summarised.

Starts several emulated clusters with the test kit (realistic pod states), exposes them as
kubeconfig contexts, runs one inventory sync through the built-in kubeconfig provider and returns
what the database now holds. :func:`serve_demo` (``nautilus demo --serve``) runs the podwatch
collector on such a fleet and serves the pod triage dashboard on 127.0.0.1. Called by
``Nautilus.demo`` / ``Nautilus.serve_demo``; needs the ``demo`` extra (kmock, aiohttp, the web extra).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nautilus_core.errors import ConfigError
from nautilus_core.inventory.providers import KubeconfigProvider

if TYPE_CHECKING:
    from nautilus_core.api import Nautilus
    from nautilus_core.cancellation import CancelToken
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


def serve_demo(app: Nautilus, clusters: int = 1, *, port: int = 8000, pods_per_namespace: int = 20,
               every: float = 30.0, on_ready: Callable[[str], None] | None = None,
               token: CancelToken | None = None) -> int:
    """``nautilus demo --serve``: the pod triage dashboard on 127.0.0.1 over an emulated fleet.

    Starts the emulated clusters (pods in every triage state, with logs and Warning Events), syncs the
    inventory, collects every namespace once, then serves the dashboard with the collector running
    beside it every ``every`` seconds (one manager, one process) until SIGTERM/SIGINT or ``token``.
    ``on_ready`` gets the dashboard's URL.
    """
    try:
        from nautilus_core.testing import EmulatedFleet, FleetSpec, populate
        from nautilus_core.web import WebOptions, serve
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigError(f"nautilus demo --serve needs the demo extra: pip install 'nautilus-core[demo]' "
                          f"({exc})") from None
    from nautilus_core.controller.manager import Runnables

    names = [DEMO_CLUSTERS[i] if i < len(DEMO_CLUSTERS) else f"demo-{i}" for i in range(clusters)]
    with tempfile.TemporaryDirectory(prefix="nautilus-demo-") as tmp, EmulatedFleet(names) as fleet:
        for i, name in enumerate(names):
            populate(fleet[name], FleetSpec(namespaces=3 + i, pods_per_namespace=pods_per_namespace,
                                            nodes=3 + 2 * i, services=4, seed=i))
        kubeconfig = fleet.write_kubeconfig(Path(tmp) / "kubeconfig")
        provider = KubeconfigProvider(kubeconfig=str(kubeconfig))
        app.sync_inventory(providers={provider.name: provider}, contexts=names)
        collector = app.podwatch_collector(providers={provider.name: provider}, contexts=names, namespaces=["*"])
        collector.run_once()
        group = Runnables(token)
        return serve(app.engine, WebOptions(), host="127.0.0.1", port=port, plugins=app.plugins,
                     also=[collector.runnable(every)], group=group,
                     install_signals=token is None,
                     on_ready=(lambda web: on_ready(web.url)) if on_ready else None)
