"""The intelligent-scaling operator's Prometheus metrics, with the seed's names.

Owns :class:`ScalingMetrics`: ``nimbusguard_scaling_operations_total{type,namespace}``,
``nimbusguard_current_replicas{namespace,deployment}``, ``nimbusguard_decisions_total{action}`` and
``nimbusguard_operator_health{component}`` (prometheus, kubernetes, decision_engine; 1 healthy,
0 not), in the controller's registry so ``/metrics`` serves them beside the runtime's. Used by
``scaling.operator``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class ScalingMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        reg = registry if registry is not None else CollectorRegistry()
        self.registry = reg
        self._operations = Counter("nimbusguard_scaling_operations", "Scale changes made, by direction",
                                   ["type", "namespace"], registry=reg)
        self._current = Gauge("nimbusguard_current_replicas", "Replicas of each target Deployment",
                              ["namespace", "deployment"], registry=reg)
        self._decisions = Counter("nimbusguard_decisions", "Decisions made, by action", ["action"], registry=reg)
        self._health = Gauge("nimbusguard_operator_health", "1 when the component answered at the last decision",
                             ["component"], registry=reg)
        for component in ("prometheus", "kubernetes", "decision_engine"):
            self._health.labels(component).set(1)

    def operation(self, kind: str, namespace: str) -> None:
        self._operations.labels(kind, namespace).inc()

    def current(self, namespace: str, deployment: str, replicas: int) -> None:
        self._current.labels(namespace, deployment).set(replicas)

    def decision(self, action: str) -> None:
        self._decisions.labels(action).inc()

    def health(self, component: str, ok: bool) -> None:
        self._health.labels(component).set(1 if ok else 0)
