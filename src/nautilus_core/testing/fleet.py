"""The fleet generator: a realistic, deterministic cluster's worth of objects for an emulator.

Owns :class:`FleetSpec` (how big, which seed, which mix of pod states), :func:`generate` (objects and
logs, no emulator needed), :func:`populate` (load them into a
:class:`~nautilus_core.testing.KubeEmulator`) and :class:`FleetSummary` (what was generated: the state
and expected ``kubectl`` STATUS of every pod, node states, service types). The objects are built by
``fleet_infra.py`` (namespaces, nodes, services), ``fleet_workloads.py`` (workloads, pods, events,
logs), ``pod_states.py`` (pod bodies) and ``fleet_logs.py`` (log text). Used by tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from nautilus_core.testing.fleet_infra import NODE_STATES, SERVICE_TYPES
from nautilus_core.testing.fleet_workloads import Workloads
from nautilus_core.testing.pod_states import DEFAULT_WEIGHTS, POD_STATES

if TYPE_CHECKING:
    from nautilus_core.testing.emulator import KubeEmulator

__all__ = ["NODE_STATES", "POD_STATES", "SERVICE_TYPES", "FleetSpec", "FleetSummary", "generate", "populate"]

Obj = dict[str, Any]


@dataclass(frozen=True)
class FleetSpec:
    """What to generate; the same spec (and seed) always gives the same objects."""

    namespaces: int = 4
    pods_per_namespace: int = 25
    nodes: int = 6
    services: int = 8
    seed: int = 0
    state_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    cover_all_states: bool = True  # every pod state, node state and service type at least once, if room
    logs: bool = True
    log_lines: int = 12
    events: bool = True
    kubelet_version: str = "v1.30.2"


@dataclass
class FleetSummary:
    """What was generated, for assertions."""

    namespaces: list[str] = field(default_factory=list)
    terminating_namespace: str | None = None
    nodes: dict[str, str] = field(default_factory=dict)  # node name -> one of NODE_STATES
    services: dict[tuple[str, str], str] = field(default_factory=dict)  # (ns, name) -> one of SERVICE_TYPES
    pods: dict[tuple[str, str], str] = field(default_factory=dict)  # (ns, name) -> a POD_STATES key
    objects: int = 0

    def pods_in(self, state: str) -> list[tuple[str, str]]:
        return [key for key, value in self.pods.items() if value == state]

    def expected_status(self, namespace: str, name: str) -> str:
        """The STATUS column ``kubectl get pods`` prints for a generated pod."""
        return POD_STATES[self.pods[(namespace, name)]].kubectl_status


def generate(
    spec: FleetSpec | None = None, now: float | None = None
) -> tuple[list[Obj], list[tuple[str, str, str, str, bool]], FleetSummary]:
    """The objects, the logs ``(namespace, pod, container, text, previous)`` and the summary for ``spec``."""
    spec = spec or FleetSpec()
    gen = Workloads(spec, FleetSummary(), time.time() if now is None else now)
    namespaces = gen.namespaces()
    placed = gen.nodes()
    schedulable = [node for node in placed if gen.summary.nodes[node[0]] not in ("NotReady", "Unschedulable")]
    states = gen.pod_states()
    apps: list[tuple[str, str]] = []
    per_namespace = spec.pods_per_namespace
    for n, namespace in enumerate(namespaces):
        mine = states[n * per_namespace : (n + 1) * per_namespace]
        start, index = 0, 0
        while start < len(mine):
            size = min(len(mine) - start, gen.rng.randint(2, 8))
            apps.append(
                (namespace, gen.app(namespace, index, schedulable or placed, mine[start : start + size]))
            )
            start += size
            index += 1
    gen.services(apps)
    gen.summary.objects = len(gen.objects)
    return gen.objects, gen.logs, gen.summary


def populate(
    emu: KubeEmulator,
    spec: FleetSpec | None = None,
    *,
    namespaces: int | None = None,
    pods_per_namespace: int | None = None,
    nodes: int | None = None,
    services: int | None = None,
    seed: int | None = None,
    now: float | None = None,
) -> FleetSummary:
    """Fill ``emu`` with a generated cluster (keyword arguments override fields of ``spec``)."""
    overrides: dict[str, Any] = {
        key: value
        for key, value in {
            "namespaces": namespaces,
            "pods_per_namespace": pods_per_namespace,
            "nodes": nodes,
            "services": services,
            "seed": seed,
        }.items()
        if value is not None
    }
    spec = replace(spec or FleetSpec(), **overrides)
    with _collector_paused():
        objects, logs, summary = generate(spec, now)
        emu.load(objects)
        for namespace, pod, container, text, previous in logs:
            emu.set_logs(namespace, pod, container, text, previous=previous)
    return summary


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Building many small dicts is several times faster without the cyclic GC scanning them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
