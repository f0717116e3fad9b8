"""``EmulatedFleet``: several emulated clusters served by one background event loop.

Owns a named set of :class:`~nautilus_core.testing.KubeEmulator` instances (each on its own port)
that share one loop thread, their common lifecycle, and a kubeconfig with one context per cluster
(context name = cluster name). Used by multi-cluster tests (inventory sync, sharding) directly or
through the ``kube_fleet`` pytest fixture, and by benchmarks that load many clusters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nautilus_core.testing import kubeconfig
from nautilus_core.testing._loop import LoopThread
from nautilus_core.testing.emulator import KubeEmulator


class EmulatedFleet:
    """N emulated clusters; ``fleet["name"]`` is one cluster's emulator.

    ``clusters``: cluster names, or a count (names ``cluster-1`` ... ``cluster-N``). Other keyword
    arguments (``token``, ``git_version``, ``bookmark_interval``, ``history_size``) go to every emulator.
    """

    def __init__(self, clusters: Iterable[str] | int = 2, **emulator_options: Any) -> None:
        names = (
            [f"cluster-{i}" for i in range(1, clusters + 1)] if isinstance(clusters, int) else list(clusters)
        )
        if len(set(names)) != len(names):
            raise ValueError(f"cluster names must be unique: {names}")
        self._options = emulator_options
        self._loop = LoopThread("kube-emulated-fleet")
        self._emulators: dict[str, KubeEmulator] = {}
        for name in names:
            self._emulators[name] = KubeEmulator(name, loop=self._loop, **emulator_options)
        self._started = False

    def start(self) -> EmulatedFleet:
        if not self._started:
            self._loop.start()
            self._started = True
            try:
                for emulator in self._emulators.values():
                    emulator.start()
            except BaseException:
                self.stop()
                raise
        return self

    def stop(self) -> None:
        for emulator in self._emulators.values():
            emulator.stop()
        self._loop.stop()
        self._started = False

    def __enter__(self) -> EmulatedFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add(self, name: str, **emulator_options: Any) -> KubeEmulator:
        """Add one more cluster (started if the fleet is running)."""
        if name in self._emulators:
            raise ValueError(f"cluster {name!r} already exists")
        emulator = KubeEmulator(name, loop=self._loop, **{**self._options, **emulator_options})
        self._emulators[name] = emulator
        if self._started:
            emulator.start()
        return emulator

    def remove(self, name: str) -> None:
        """Stop and forget one cluster (e.g. a cluster deleted at the provider)."""
        self._emulators.pop(name).stop()

    def __getitem__(self, name: str) -> KubeEmulator:
        return self._emulators[name]

    def __contains__(self, name: object) -> bool:
        return name in self._emulators

    def __iter__(self) -> Iterator[KubeEmulator]:
        return iter(list(self._emulators.values()))

    def __len__(self) -> int:
        return len(self._emulators)

    @property
    def names(self) -> list[str]:
        return list(self._emulators)

    def kubeconfig_dict(self, current: str | None = None) -> dict[str, Any]:
        """One context per cluster (named like the cluster); ``current`` defaults to the first one."""
        if not self._emulators:
            raise ValueError("the fleet has no clusters")
        items = [
            kubeconfig.entries(name, emulator.url, emulator.token)
            for name, emulator in self._emulators.items()
        ]
        return kubeconfig.build(items, current or next(iter(self._emulators)))

    def write_kubeconfig(self, path: str | Path, current: str | None = None) -> Path:
        """Write :meth:`kubeconfig_dict` as YAML to ``path`` and return the path."""
        return kubeconfig.dump(path, self.kubeconfig_dict(current))

    def __repr__(self) -> str:
        return f"EmulatedFleet({self.names!r})"
