"""pytest fixtures for the Kubernetes API emulator (registered via the ``pytest11`` entry point).

Fixtures (names are stable; plugin authors get them by installing nautilus-core):

``kube_emulator``
    A fresh, running :class:`~nautilus_core.testing.KubeEmulator` per test (function scope),
    with a short BOOKMARK interval (0.2 s); stopped at teardown.
``kubeconfig_path``
    A kubeconfig file in ``tmp_path`` whose current context ``emulator`` reaches ``kube_emulator``
    over http (with its token, if it has one). Load it with
    ``kubernetes.config.new_client_from_config(config_file=str(kubeconfig_path))``.
``kube_cluster``
    Like ``kube_emulator``, with the simulated cluster switched on (``KubeEmulator(simulate=True)``):
    Deployments, ReplicaSets, StatefulSets and Jobs get their Pods, Pods get a node and become Ready.
``kube_fleet``
    A factory: ``kube_fleet(["east", "west"], **emulator_options)`` or ``kube_fleet(3)`` returns a
    running :class:`~nautilus_core.testing.EmulatedFleet`; every fleet made in a test is stopped at
    teardown. ``fleet.write_kubeconfig(path)`` writes one context per cluster.

The emulator modules are imported inside the fixtures, so merely having the plugin installed costs
nothing at collection time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from nautilus_core.testing.emulated_fleet import EmulatedFleet
    from nautilus_core.testing.emulator import KubeEmulator

TEST_BOOKMARK_INTERVAL = 0.2


@pytest.fixture
def kube_emulator() -> Iterator[KubeEmulator]:
    """A running emulated Kubernetes API server, fresh for this test."""
    from nautilus_core.testing.emulator import KubeEmulator

    with KubeEmulator("emulator", bookmark_interval=TEST_BOOKMARK_INTERVAL) as emulator:
        yield emulator


@pytest.fixture
def kube_cluster() -> Iterator[KubeEmulator]:
    """A running emulated API server with a KWOK-style simulated cluster behind it, fresh for this test."""
    from nautilus_core.testing.emulator import KubeEmulator

    with KubeEmulator("cluster", bookmark_interval=TEST_BOOKMARK_INTERVAL, simulate=True) as emulator:
        yield emulator


@pytest.fixture
def kubeconfig_path(kube_emulator: KubeEmulator, tmp_path: Path) -> Path:
    """A kubeconfig file (context ``emulator``) pointing at ``kube_emulator``."""
    return kube_emulator.write_kubeconfig(tmp_path / "kubeconfig", context="emulator")


@pytest.fixture
def kube_fleet() -> Iterator[Callable[..., EmulatedFleet]]:
    """A factory of running emulated fleets, all stopped at teardown."""
    from nautilus_core.testing.emulated_fleet import EmulatedFleet

    fleets: list[EmulatedFleet] = []

    def make(clusters: Iterable[str] | int = 2, **options: Any) -> EmulatedFleet:
        options.setdefault("bookmark_interval", TEST_BOOKMARK_INTERVAL)
        fleet = EmulatedFleet(clusters, **options).start()
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in reversed(fleets):
        fleet.stop()
