"""Prometheus metrics of the controller runtime, under the names controller-runtime and client-go use.

Owns :class:`ControllerMetrics`: one object per runtime with its own ``CollectorRegistry`` (never the
process-wide default, so several runtimes and tests coexist). The work queue (``controller/queue.py``)
reports adds, depth, retries and latencies through it; the controller runtime (``controller/runtime.py``)
reports reconcile results, busy workers, parked keys and leadership; the metrics server
(``controller/health.py``) serves :meth:`ControllerMetrics.render` on ``/metrics``.

Metrics (labels in braces)::

    controller_runtime_reconcile_total{controller,result}   result: success|error|requeue|requeue_after|parked
    controller_runtime_reconcile_errors_total{controller}
    controller_runtime_reconcile_time_seconds{controller}   histogram
    controller_runtime_active_workers{controller}
    controller_runtime_max_concurrent_reconciles{controller}
    workqueue_depth{name}  workqueue_adds_total{name}  workqueue_retries_total{name}
    workqueue_queue_duration_seconds{name}  workqueue_work_duration_seconds{name}   histograms
    nautilus_leader{identity}                               1 while this identity holds the lease
    nautilus_parked_keys{controller}                        keys given up on after max_retries
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["CONTENT_TYPE", "RESULTS", "ControllerMetrics", "ReconcileResult"]

ReconcileResult = Literal["success", "error", "requeue", "requeue_after", "parked"]
RESULTS: Final[tuple[str, ...]] = get_args(ReconcileResult)
# Results that mean the reconcile raised: counted in controller_runtime_reconcile_errors_total too.
_ERROR_RESULTS: Final = frozenset({"error", "parked"})

#: Content type of :meth:`ControllerMetrics.render` (Prometheus text format 0.0.4).
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

# Reconciles take milliseconds to a minute; queue waits range from microseconds to the backoff cap.
_RECONCILE_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_QUEUE_BUCKETS: Final = (1e-5, 1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0, 60.0, 300.0, 1000.0)


class ControllerMetrics:
    """The runtime's and queues' metrics, in a registry of their own.

    :param registry: where to register; a fresh :class:`~prometheus_client.CollectorRegistry` by default.

    Example::

        metrics = ControllerMetrics()
        metrics.register_controller("clusters", max_concurrent=5)
        metrics.reconcile("clusters", "success", 0.012)
        body = metrics.render()
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry
        self._reconcile_total = Counter(
            "controller_runtime_reconcile_total", "Total number of reconciliations per controller and result.",
            ["controller", "result"], registry=reg)
        self._reconcile_errors = Counter(
            "controller_runtime_reconcile_errors_total", "Total number of reconciliation errors per controller.",
            ["controller"], registry=reg)
        self._reconcile_time = Histogram(
            "controller_runtime_reconcile_time_seconds", "Length of time per reconciliation per controller.",
            ["controller"], buckets=_RECONCILE_BUCKETS, registry=reg)
        self._active_workers = Gauge(
            "controller_runtime_active_workers", "Number of currently used workers per controller.",
            ["controller"], registry=reg)
        self._max_concurrent = Gauge(
            "controller_runtime_max_concurrent_reconciles", "Maximum number of concurrent reconciles per controller.",
            ["controller"], registry=reg)
        self._depth = Gauge("workqueue_depth", "Current depth of workqueue (keys ready to be handed out).",
                            ["name"], registry=reg)
        self._adds = Counter("workqueue_adds_total", "Total number of adds handled by workqueue.",
                             ["name"], registry=reg)
        self._retries = Counter("workqueue_retries_total", "Total number of retries handled by workqueue.",
                                ["name"], registry=reg)
        self._queue_duration = Histogram(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested.",
            ["name"], buckets=_QUEUE_BUCKETS, registry=reg)
        self._work_duration = Histogram(
            "workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes.",
            ["name"], buckets=_QUEUE_BUCKETS, registry=reg)
        self._leader = Gauge("nautilus_leader", "1 while this identity holds the leader lease, else 0.",
                             ["identity"], registry=reg)
        self._parked = Gauge("nautilus_parked_keys", "Keys given up on after max_retries failed reconciles.",
                             ["controller"], registry=reg)

    # ------------------------------------------------------------------ controller runtime

    def register_controller(self, controller: str, max_concurrent: int) -> None:
        """Create the controller's series (all at zero) so dashboards see them before the first event."""
        for result in RESULTS:
            self._reconcile_total.labels(controller, result)
        self._reconcile_errors.labels(controller)
        self._reconcile_time.labels(controller)
        self._active_workers.labels(controller).set(0)
        self._max_concurrent.labels(controller).set(max_concurrent)
        self._parked.labels(controller).set(0)

    def reconcile(self, controller: str, result: ReconcileResult, seconds: float) -> None:
        """Count one reconcile of ``controller`` that ended with ``result`` and took ``seconds``.

        ``error`` and ``parked`` (an error after which the key is given up on) also count as errors.
        :raises ValueError: for a result not in :data:`RESULTS`.
        """
        if result not in RESULTS:
            raise ValueError(f"unknown reconcile result {result!r}; expected one of {', '.join(RESULTS)}")
        self._reconcile_total.labels(controller, result).inc()
        if result in _ERROR_RESULTS:
            self._reconcile_errors.labels(controller).inc()
        self._reconcile_time.labels(controller).observe(max(0.0, seconds))

    def active_workers(self, controller: str, delta: int) -> None:
        """A worker of ``controller`` started (``+1``) or finished (``-1``) a reconcile."""
        self._active_workers.labels(controller).inc(delta)

    def set_max_concurrent_reconciles(self, controller: str, n: int) -> None:
        self._max_concurrent.labels(controller).set(n)

    def parked(self, controller: str, n: int) -> None:
        """Number of keys of ``controller`` currently parked (not retried until an event or restart)."""
        self._parked.labels(controller).set(n)

    def set_leader(self, identity: str, leading: bool) -> None:
        self._leader.labels(identity).set(1 if leading else 0)

    # ------------------------------------------------------------------ work queue (QueueMetrics)

    def queue_add(self, name: str) -> None:
        self._adds.labels(name).inc()

    def queue_depth(self, name: str, depth: int) -> None:
        self._depth.labels(name).set(depth)

    def queue_retry(self, name: str) -> None:
        self._retries.labels(name).inc()

    def queue_latency(self, name: str, seconds: float) -> None:
        """Time a key waited between being added (or becoming ready) and being handed to a worker."""
        self._queue_duration.labels(name).observe(seconds)

    def work_duration(self, name: str, seconds: float) -> None:
        """Time between a key being handed out and marked done."""
        self._work_duration.labels(name).observe(seconds)

    # ------------------------------------------------------------------ exposition

    def render(self) -> bytes:
        """Every metric of this registry in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """Current value of one sample (e.g. ``"workqueue_adds_total", {"name": "q"}``), ``None`` if absent."""
        return self.registry.get_sample_value(name, labels or {})
