"""The ODA collector's Prometheus metrics, under the seed collector's names.

Owns :class:`CollectorMetrics`, registered in the controller runtime's registry (``ctx.metrics.registry``)
so ``/metrics`` on MONITORING_PORT serves them beside the runtime's own::

    oda_collector_components_total{status}            components synced (success | failed | deleted)
    oda_collector_components_current                  components this collector keeps in the registry
    oda_collector_apis_total{status}                  exposed APIs synced (success | failed | deleted)
    oda_collector_kubernetes_events_total{resource,event_type}   watch events (ADDED | MODIFIED | DELETED)
    oda_collector_registry_api_calls_total{operation,outcome}    read from ``Registry.calls`` at scrape time
    oda_collector_sync_duration_seconds{kind}         histogram: ``full`` sync and single ``component`` syncs
    oda_collector_invalid_components                  Components skipped as malformed at the last full sync

Used by the ``oda-components`` reconciler (``reconciler.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

_SYNC_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class _RegistryCalls(Collector):
    """``oda_collector_registry_api_calls_total`` from the client's own counter (no double bookkeeping)."""

    def __init__(self, calls: Callable[[], Any]) -> None:
        self._calls = calls

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("oda_collector_registry_api_calls", "Registry API calls by operation and outcome",
                                     labels=["operation", "outcome"])
        for (operation, outcome), count in sorted(dict(self._calls() or {}).items()):
            family.add_metric([str(operation), str(outcome)], float(count))
        yield family


class CollectorMetrics:
    """The seed's metric names in ``registry`` (a fresh one when None: tests, the CLI)."""

    def __init__(self, registry: CollectorRegistry | None = None, calls: Callable[[], Any] | None = None) -> None:
        reg = registry if registry is not None else CollectorRegistry()
        self.registry = reg
        self._components = Counter("oda_collector_components", "ODA Components synced to the registry, by result",
                                   ["status"], registry=reg)
        self._current = Gauge("oda_collector_components_current",
                              "ODA Components this collector keeps in the registry", registry=reg)
        self._apis = Counter("oda_collector_apis", "Exposed APIs synced to the registry, by result", ["status"],
                             registry=reg)
        self._events = Counter("oda_collector_kubernetes_events", "Kubernetes watch events processed",
                               ["resource", "event_type"], registry=reg)
        self._duration = Histogram("oda_collector_sync_duration_seconds", "Duration of registry syncs",
                                   ["kind"], buckets=_SYNC_BUCKETS, registry=reg)
        self._invalid = Gauge("oda_collector_invalid_components",
                              "Components skipped as malformed at the last full sync", registry=reg)
        if calls is not None:
            reg.register(_RegistryCalls(calls))

    def component(self, status: str, apis: int = 0) -> None:
        self._components.labels(status).inc()
        if apis:
            self._apis.labels(status).inc(apis)

    def current(self, count: int) -> None:
        self._current.set(count)

    def event(self, resource: str, event_type: str) -> None:
        self._events.labels(resource, event_type).inc()

    def sync_duration(self, kind: str, seconds: float) -> None:
        self._duration.labels(kind).observe(seconds)

    def invalid(self, count: int) -> None:
        self._invalid.set(count)
