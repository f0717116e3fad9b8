"""Test support for Nautilus and its plugins: an emulated Kubernetes API served over real HTTP.

Public surface (stable for plugin authors):

* :class:`KubeEmulator` — one emulated API server on 127.0.0.1 (real HTTP; drive it with the real
  ``kubernetes`` client through the kubeconfig it writes), with a thread-safe Python API for tests.
* :class:`EmulatedFleet` — several emulated clusters sharing one background event loop.
* :class:`FleetSpec`, :func:`populate`, :class:`FleetSummary` — a deterministic, realistic cluster
  (namespaces, nodes, workloads, pods in every triage-relevant state, services, events, logs).
* :data:`SYSTEM_NAMESPACES` — the namespaces every emulated cluster starts with, as a real one does
  (``default``, ``kube-node-lease``, ``kube-public``, ``kube-system``).
* :class:`Fault`, :class:`Outage`, :class:`Journal`, :class:`RequestRecord`, :class:`ApiError` —
  fault injection handles, the request journal, and the error type of the Python API.
* pytest fixtures ``kube_emulator``, ``kube_cluster``, ``kube_fleet``, ``kubeconfig_path`` (see
  ``pytest_plugin``).

What comes from kmock (the Kubernetes mock server by the kopf author) and what is ours:

* From kmock: the HTTP server (``kmock.Server``: aiohttp on 127.0.0.1, a free port), the request
  handler lifecycle and its DSL for non-resource URLs (``kmock.RawHandler``), and the Kubernetes
  scaffold (``kmock.KubernetesScaffold``): routes for ``/``, ``/api``, ``/apis``, ``/apis/<group>``,
  ``/apis/<group>/<version>``, ``/version`` and the resource registry (``ResourceInfo``) behind them.
  Tests can still add kmock reactions for other URLs through ``KubeEmulator.handler``.
* Overridden on top of kmock: the discovery documents (deterministic preferred version, ``Scale``
  subresources, trailing-slash paths the Python client uses), ``/version`` (configurable
  ``gitVersion``), error rendering (clean ``Status`` bodies), and the server start (kmock's DNS
  interceptor patches aiohttp process-wide and needs LIFO exits, which emulators stopped in any
  order cannot promise).
* Ours: every resource URL is routed before kmock's own parsing (which fails on
  ``/api/v1/namespaces``) to our store and verbs: uid/resourceVersion/generation/timestamps, 201 on
  create, 409 on duplicates and stale resourceVersions, PUT, merge/strategic/JSON patch, server-side
  apply, finalizers, status and scale subresources, label/field selectors, limit/continue paging,
  watches with resume, bookmarks, timeouts and 410 Gone, pod logs, lists of declared-but-empty
  resources; validation with the real 400/422 answers (``go_types.py``, ``validation.py``,
  ``kind_rules.py``), server defaults and canonical quantities (``defaults.py``), the namespace
  lifecycle and deletion with garbage collection (``deletion.py``), HTTP limits (413, 504), an
  optional KWOK-style simulated cluster (``simulate.py``); plus faults, outages, bearer tokens, the
  request journal, the background loop thread, kubeconfig files, fleets of clusters, and the fleet
  generator.

Everything is imported lazily on first attribute access so that the pytest plugin (loaded in every
test run) does not pay for aiohttp and kmock unless a test uses the emulator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nautilus_core.testing.emulated_fleet import EmulatedFleet
    from nautilus_core.testing.emulator import KubeEmulator
    from nautilus_core.testing.faults import Fault, Journal, Outage, RequestRecord
    from nautilus_core.testing.fleet import FleetSpec, FleetSummary, generate, populate
    from nautilus_core.testing.pod_states import POD_STATES
    from nautilus_core.testing.status import ApiError
    from nautilus_core.testing.store import SYSTEM_NAMESPACES

_EXPORTS = {
    "KubeEmulator": "nautilus_core.testing.emulator",
    "EmulatedFleet": "nautilus_core.testing.emulated_fleet",
    "FleetSpec": "nautilus_core.testing.fleet",
    "FleetSummary": "nautilus_core.testing.fleet",
    "generate": "nautilus_core.testing.fleet",
    "populate": "nautilus_core.testing.fleet",
    "POD_STATES": "nautilus_core.testing.pod_states",
    "Fault": "nautilus_core.testing.faults",
    "Outage": "nautilus_core.testing.faults",
    "Journal": "nautilus_core.testing.faults",
    "RequestRecord": "nautilus_core.testing.faults",
    "ApiError": "nautilus_core.testing.status",
    "SYSTEM_NAMESPACES": "nautilus_core.testing.store",
    "until": "nautilus_core.testing.waiting",
}

__all__ = [
    "POD_STATES",
    "SYSTEM_NAMESPACES",
    "ApiError",
    "EmulatedFleet",
    "Fault",
    "FleetSpec",
    "FleetSummary",
    "Journal",
    "KubeEmulator",
    "Outage",
    "RequestRecord",
    "generate",
    "populate",
    "until",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
