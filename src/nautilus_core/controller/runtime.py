"""The controller runtime: runs registered reconcilers against Kubernetes and the database.

Per reconciler: a :class:`WorkQueue` (client-go semantics), ``WORKER_COUNT`` panic-safe workers,
a jittered periodic resync of every key, Kubernetes watches and polls from ``sources()`` (re-read
at every resync so new namespaces get watched). Outcomes drive the queue: done -> forget, requeue
-> add after, transient -> exponential backoff up to ``MAX_RETRIES`` then the key is parked
(``reconciler.park(key, message)``), permanent -> parked at once. With leader election only the
Lease holder works; losing the Lease cancels the term: its reconciles are joined before a new term
starts and send nothing more (``cancellation``). Health, readiness and metrics servers;
graceful shutdown drains in-flight reconciles. Called by ``Nautilus.run_controller``.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import threading
import time
from collections.abc import Collection, Mapping
from typing import Any

import structlog
from sqlalchemy import text

from nautilus_core.cancellation import Cancelled, CancelToken, bound
from nautilus_core.controller.cache import CacheView, InformerCache, InformerKey
from nautilus_core.controller.health import HealthServer, MetricsServer, combine_checks
from nautilus_core.controller.manager import Runnable, Runnables
from nautilus_core.controller.metrics import ControllerMetrics
from nautilus_core.controller.queue import WorkQueue
from nautilus_core.errors import ConfigError
from nautilus_core.kube import KubeClient
from nautilus_core.types import (
    ControllerContext,
    OutcomeKind,
    Owns,
    PollSource,
    Reconciler,
    ReconcilerFactory,
    Request,
    Source,
    WatchSource,
)

log = structlog.get_logger(__name__)
SYNC_TIMEOUT = 30.0  # seconds workers wait for the term's informers to list before they start anyway


class _Term:
    """One period of leadership: queues, workers and sources, all stopped together."""

    def __init__(self, runtime: ControllerRuntime) -> None:
        self.rt = runtime
        self.stop_event = threading.Event()
        #: cancelled when the term ends: reconciles bound to it send no more requests or statements
        self.token = CancelToken()
        self.queues = {name: WorkQueue(name, backoff_base=runtime.settings.backoff_base,
                                       backoff_max=runtime.settings.backoff_max, metrics=runtime.metrics)
                       for name in runtime.reconcilers}
        self.threads: list[threading.Thread] = []
        #: the term's informers, shared by every reconciler, discarded with the term
        self.cache = InformerCache(runtime.kube, silence_timeout=runtime.watch_silence_timeout)
        #: (reconciler, signature) -> (informer key, handler) of each watch; polls map to None
        self.sources: dict[tuple[Any, ...], tuple[InformerKey, Any] | None] = {}
        self.refreshed: set[str] = set()  # reconcilers whose sources were read at least once
        self.deaths = 0  # term threads restarted after dying on a bug
        #: per reconciler: key -> fingerprint reported by its last successful reconcile
        self.fingerprints: dict[str, dict[str, str]] = {name: {} for name in runtime.reconcilers}
        #: leader-only runnables, cancelled with the term
        self.runnables = Runnables(self.token)
        self.parked: dict[str, set[str]] = {name: set() for name in runtime.reconcilers}
        self._lock = threading.Lock()

    def _thread(self, target: Any, name: str, *args: Any) -> None:
        thread = threading.Thread(target=self._guarded, args=(target, name, *args), name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _guarded(self, target: Any, name: str, *args: Any) -> None:
        """Run a term thread's loop; if it dies on a bug, log it and start it again (with backoff)."""
        delay = 0.5
        while not self.stop_event.is_set():
            try:
                target(*args)
                return
            except Cancelled:
                return
            except Exception as exc:
                self.deaths += 1
                log.exception("term_thread_died", thread=name, error=f"{type(exc).__name__}: {exc}",
                              retry_in=delay)
                if self.stop_event.wait(delay):
                    return
                delay = min(delay * 2, 30.0)

    def health(self) -> tuple[bool, str]:
        """The term's threads are running and its informers watching."""
        dead = [t.name for t in self.threads if not t.is_alive()]
        if dead and not self.stop_event.is_set():
            return False, "term threads not running: " + ", ".join(dead)
        ok, message = self.cache.health()
        if self.deaths:
            message += f"; term threads restarted {self.deaths}x"
        return ok, message

    def start(self) -> None:
        for runnable in self.rt.leader_runnables:
            self.runnables.add(runnable)
        self.runnables.start()
        for name, rec in self.rt.reconcilers.items():
            for i in range(self.rt.settings.worker_count):
                self._thread(self._worker, f"{name}-worker-{i}", name, rec)
            self._thread(self._resync, f"{name}-resync", name, rec)

    def synced(self) -> bool:
        """Every reconciler has declared its sources and every watch has listed once."""
        with self._lock:
            refreshed = self.refreshed >= set(self.rt.reconcilers)
        return refreshed and self.cache.synced()

    def stop(self, drain: bool, timeout: float, reason: str, join_timeout: float | None = None) -> None:
        """End the term. ``drain``: let in-flight reconciles finish within ``timeout`` first. Then the
        token is cancelled (nothing more is written on the term's behalf) and every thread is joined:
        a new term never starts while a reconcile of this one still runs (``join_timeout`` bounds that
        wait only on the way out of the process, where no new term follows)."""
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for queue in self.queues.values():
            queue.shut_down(drain=drain, timeout=max(0.0, deadline - time.monotonic()) if drain else 0.0)
        self.token.cancel(reason)
        self.runnables.stop(reason, timeout=5.0)
        self.cache.stop()
        join_deadline = None if join_timeout is None else time.monotonic() + join_timeout
        for thread in self.threads:
            thread.join(None if join_deadline is None else max(0.0, join_deadline - time.monotonic()))

    # ------------------------------------------------------------------ sources

    def _resync(self, name: str, rec: Reconciler) -> None:
        queue = self.queues[name]
        interval = self.rt.settings.reconcile_interval
        while not self.stop_event.is_set():
            try:
                self._refresh_sources(name, rec)
                fingerprints = getattr(rec, "fingerprints", None)
                if fingerprints is not None:
                    current = dict(fingerprints())
                    done = self.fingerprints[name]
                    for gone in set(done) - set(current):
                        done.pop(gone, None)
                    keys = [k for k, f in current.items() if f is None or done.get(k) != f]
                else:
                    keys = list(rec.keys())
                for key in keys:
                    queue.add(key, low_priority=True)  # events go first
                log.debug("resync", reconciler=name, keys=len(keys))
            except Exception as exc:  # a failing resync is retried at the next one
                log.warning("resync_failed", reconciler=name, error=str(exc))
            if self.stop_event.wait(interval * random.uniform(0.9, 1.1)):
                return

    def _refresh_sources(self, name: str, rec: Reconciler) -> None:
        """Start the sources ``rec`` declares now and stop its watches it no longer declares (a
        namespace whose last row went away). If ``sources()`` fails, everything keeps running."""
        declared: dict[tuple[Any, ...], Source] = {}
        for source in rec.sources():
            if isinstance(source, PollSource):
                declared[("poll", source.name)] = source
            else:
                kind = "owns" if isinstance(source, Owns) else "watch"
                declared[(kind, source.api_version, source.plural, source.namespace, source.label_selector,
                          getattr(source, "owner_kind", None))] = source
        for sig, source in declared.items():
            if (name, sig) in self.sources:
                continue
            if isinstance(source, PollSource):
                self.sources[(name, sig)] = None
                self._thread(self._poll, f"{name}-poll-{source.name}", name, source)
                continue
            key = InformerKey(source.api_version, source.plural, source.namespace, source.label_selector)
            handler = self._handler(name, source)
            self.cache.acquire(key, handler)
            self.sources[(name, sig)] = (key, handler)
        for full in [k for k in self.sources if k[0] == name and k[1] not in declared]:
            entry = self.sources.pop(full)
            if entry is not None:
                self.cache.release(*entry)
                log.info("watch_removed", reconciler=name, informer=str(entry[0]))
        with self._lock:
            self.refreshed.add(name)

    def _handler(self, name: str, source: WatchSource | Owns) -> Any:
        queue = self.queues[name]

        def handle(event_type: str, obj: dict[str, Any]) -> None:
            if self.stop_event.is_set():
                return
            try:
                for key in source.to_keys(event_type, obj):
                    queue.add(key)
            except Exception as exc:  # a bad object must not end the watch
                log.warning("watch_mapping_failed", reconciler=name, resource=source.plural, error=str(exc))

        return handle

    def _poll(self, name: str, source: PollSource) -> None:
        queue = self.queues[name]
        pause = source.interval
        while not self.stop_event.wait(pause):
            try:
                for key in source.poll():
                    queue.add(key)
                pause = source.interval
            except Exception as exc:  # e.g. the database is down: try again, without spinning
                log.warning("poll_failed", reconciler=name, source=source.name, error=str(exc))
                pause = max(source.interval, 1.0)

    # ------------------------------------------------------------------ workers

    def _worker(self, name: str, rec: Reconciler) -> None:
        queue = self.queues[name]
        metrics = self.rt.metrics
        # Like controller-runtime: start reconciling once the informers have listed (so the cache
        # answers "absent" instead of a GET per key), or after SYNC_TIMEOUT whatever they say.
        deadline = time.monotonic() + SYNC_TIMEOUT
        while not self.synced() and time.monotonic() < deadline and not self.stop_event.wait(0.05):
            pass
        while True:
            key = queue.get(timeout=0.5)
            if key is None:
                if queue.shutting_down or self.stop_event.is_set():
                    return
                continue
            started = time.monotonic()
            metrics.active_workers(name, 1)
            bound_log = log.bind(reconciler=name, key=key)
            with bound(self.token):
                fingerprint = None
                try:
                    outcome = rec.reconcile(Request(key, self.token))
                    kind, after, message = outcome.kind, outcome.after, outcome.message
                    fingerprint = outcome.fingerprint if kind is OutcomeKind.DONE else None
                except Cancelled as exc:  # the term ended while this reconcile ran: nothing more sent
                    bound_log.info("reconcile_cancelled", reason=str(exc))
                    kind, after, message = OutcomeKind.REQUEUE, 0.0, str(exc)
                except Exception as exc:  # a panic in one reconcile never kills the worker
                    bound_log.exception("reconcile_panic")
                    kind, after, message = OutcomeKind.TRANSIENT, None, f"{type(exc).__name__}: {exc}"
                finally:
                    metrics.active_workers(name, -1)
                if self.token.cancelled:  # the next term decides what to do with this key
                    queue.done(key)
                    continue
                if fingerprint is None:
                    self.fingerprints[name].pop(key, None)
                else:
                    self.fingerprints[name][key] = fingerprint
                try:
                    result = self._handle(name, rec, queue, key, kind, after, message, bound_log)
                except Cancelled:
                    queue.done(key)
                    continue
            metrics.reconcile(name, result, time.monotonic() - started)  # type: ignore[arg-type]
            queue.done(key)

    def _handle(self, name: str, rec: Reconciler, queue: WorkQueue, key: str, kind: OutcomeKind,
                after: float | None, message: str | None, bound: Any) -> str:
        if kind is OutcomeKind.DONE:
            queue.forget(key)
            self._unpark(name, key)
            return "success"
        if kind is OutcomeKind.REQUEUE:
            queue.forget(key)
            queue.add_after(key, after or 0.0)
            return "requeue_after"
        if kind is OutcomeKind.TRANSIENT and queue.failures(key) < self.rt.settings.max_retries:
            delay = queue.add_rate_limited(key, min_delay=after or 0.0)  # Retry-After wins when longer
            bound.warning("reconcile_failed", error=message, retry_in=round(delay, 2),
                          attempt=queue.failures(key))
            return "error"
        queue.forget(key)
        bound.error("reconcile_parked", error=message, permanent=kind is OutcomeKind.PERMANENT)
        park = getattr(rec, "park", None)
        if park is not None:
            try:
                park(key, message or "failed")
            except Exception as exc:
                bound.warning("park_failed", error=str(exc))
        with self._lock:
            self.parked[name].add(key)
            self.rt.metrics.parked(name, len(self.parked[name]))
        return "parked"

    def _unpark(self, name: str, key: str) -> None:
        with self._lock:
            if key in self.parked[name]:
                self.parked[name].discard(key)
                self.rt.metrics.parked(name, len(self.parked[name]))


class ControllerRuntime:
    """Run ``reconcilers`` until stopped. ``run()`` blocks and handles SIGTERM/SIGINT; ``start()`` and
    ``stop()`` drive it from code (tests, embedding applications). A reconciler named in ``optional``
    whose factory raises ``ConfigError`` (its CRD is not installed, say) is skipped with a warning;
    any other is an error at start."""

    def __init__(self, *, settings: Any, engine: Any, kube: KubeClient,
                 reconcilers: Mapping[str, ReconcilerFactory], identity: str | None = None,
                 leader_election: bool = True, lease_name: str = "nautilus-controller",
                 lease_namespace: str | None = None, metrics: ControllerMetrics | None = None,
                 grace_period: float = 30.0, lease_timing: tuple[float, float, float] | None = None,
                 watch_silence_timeout: float = 300.0, plugins: Any = None,
                 optional: Collection[str] = ()) -> None:
        self.settings, self.engine, self.kube = settings, engine, kube
        self.identity = identity or f"{socket.gethostname()}-{os.getpid()}"
        self.metrics = metrics or ControllerMetrics()
        self.cache = CacheView(lambda: term.cache if (term := self._term) is not None else None, kube)
        self.reconcilers: dict[str, Reconciler] = {}
        for name, factory in reconcilers.items():
            ctx = ControllerContext(settings=settings, engine=engine, kube=kube, cache=self.cache,
                                    identity=self.identity, plugins=plugins, metrics=self.metrics,
                                    log=log.bind(reconciler=name))
            try:
                self.reconcilers[name] = factory(ctx)
            except ConfigError as exc:  # e.g. its CRD is not installed
                if name not in optional:
                    raise
                log.warning("reconciler_skipped", reconciler=name, reason=str(exc))
        for name in self.reconcilers:
            self.metrics.register_controller(name, settings.worker_count)
        self.leader_election = leader_election
        self.lease_name = lease_name
        self.lease_namespace = lease_namespace or str(getattr(settings, "pod_namespace", "default"))
        self.lease_timing = lease_timing or (getattr(settings, "lease_duration", 15.0),
                                             getattr(settings, "renew_deadline", 10.0),
                                             getattr(settings, "retry_period", 2.0))
        self.grace_period = grace_period
        self.watch_silence_timeout = watch_silence_timeout
        self._stop = threading.Event()
        self._elector_stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._term: _Term | None = None
        self._term_lock = threading.Lock()
        self._elector: Any = None
        self._elector_thread: threading.Thread | None = None
        self._servers: dict[str, Any] = {}  # "health" / "metrics" -> running server
        #: runnables of every replica (a web server, a collector), supervised for the whole process
        self.runnables = Runnables()
        self.leader_runnables: list[Runnable] = []
        self._heartbeat = time.monotonic()
        self._checks: dict[str, tuple[float, bool, str]] = {}

    # ------------------------------------------------------------------ leadership

    @property
    def leading(self) -> bool:
        return self._term is not None

    def _start_term(self) -> None:
        with self._term_lock:
            if self._term is None and not self._stop.is_set():
                self._term = _Term(self)
                self._term.start()
                self.metrics.set_leader(self.identity, True)
                log.info("leading", identity=self.identity, reconcilers=sorted(self.reconcilers))

    def _stop_term(self, drain: bool = False, timeout: float = 0.0, reason: str = "lease lost",
                   join_timeout: float | None = None) -> None:
        """End the current term (``on_stopped_leading`` calls it with ``reason="lease lost"``): its
        reconciles are cancelled and joined before this returns, so before any new term starts."""
        with self._term_lock:
            term, self._term = self._term, None
            if term is not None:
                self.metrics.set_leader(self.identity, False)
                log.info("stopped_leading", identity=self.identity, drain=drain, reason=reason)
                term.stop(drain=drain, timeout=timeout, reason=reason, join_timeout=join_timeout)

    # ------------------------------------------------------------------ health

    def _cached(self, name: str, check: Any, ttl: float = 2.0) -> tuple[bool, str]:
        now = time.monotonic()
        hit = self._checks.get(name)
        if hit and now - hit[0] < ttl:
            return hit[1], hit[2]
        try:
            ok, message = check()
        except Exception as exc:
            ok, message = False, f"{type(exc).__name__}: {exc}"
        self._checks[name] = (now, ok, message)
        return ok, message

    def _db_check(self) -> tuple[bool, str]:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True, "reachable"

    def _kube_check(self) -> tuple[bool, str]:
        return True, f"reachable ({self.kube.version().get('gitVersion')})"

    def readiness_checks(self) -> dict[str, Any]:
        def informers() -> tuple[bool, str]:
            term = self._term
            if term is None:
                return True, "not leading (standby)"
            return (True, "synced") if term.synced() else (False, "watches not synced yet")

        return {"database": lambda: self._cached("database", self._db_check),
                "kubernetes": lambda: self._cached("kubernetes", self._kube_check),
                "informers": informers}

    def ready(self) -> bool:
        return all(check()[0] for check in self.readiness_checks().values())

    def add_runnable(self, runnable: Runnable, leader_only: bool = False) -> None:
        """Run ``runnable`` with the controller (restarted with backoff if it dies, shown on /healthz);
        ``leader_only``: only while this replica holds the Lease, cancelled when it loses it."""
        if leader_only:
            self.leader_runnables.append(runnable)
        else:
            self.runnables.add(runnable)

    def liveness(self) -> tuple[bool, str]:
        """``/healthz``: the supervisor's heartbeat, every runnable, and the term's threads and informers."""
        age = time.monotonic() - self._heartbeat
        parts = [(age < 30.0, f"supervisor heartbeat {age:.1f}s ago")]
        parts += [(ok, f"{name}: {message}") for name, (ok, message) in self.runnables.health().items()]
        term = self._term
        if term is not None:
            ok, message = term.health()
            parts.append((ok, f"term: {message}"))
            parts += [(ok, f"{name}: {message}") for name, (ok, message) in term.runnables.health().items()]
        failing = [message for ok, message in parts if not ok]
        return (not failing, "; ".join(failing or [message for _ok, message in parts]))

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        s = self.settings
        if s.enable_health_check:
            same = s.enable_metrics and s.metrics_port == s.health_check_port and s.metrics_port != 0
            server = HealthServer(getattr(s, "bind_address", "127.0.0.1"), s.health_check_port, self.liveness,
                                  combine_checks(self.readiness_checks()), metrics=self.metrics if same else None)
            self._servers["health"] = server.start()
            if same:
                self._servers["metrics"] = server
        if s.enable_metrics and not (s.enable_health_check and s.metrics_port == s.health_check_port
                                     and s.metrics_port != 0):
            self._servers["metrics"] = MetricsServer(getattr(s, "bind_address", "127.0.0.1"), s.metrics_port,
                                                     metrics=self.metrics).start()
        if self.leader_election:
            from nautilus_core.kube.lease import LeaderElector

            duration, deadline, retry = self.lease_timing
            self._elector = LeaderElector(
                self.kube, name=self.lease_name, namespace=self.lease_namespace, identity=self.identity,
                lease_duration=duration, renew_deadline=deadline, retry_period=retry,
                on_started_leading=self._start_term, on_stopped_leading=self._stop_term)
            self._elector_thread = self._elector.start_in_thread(self._elector_stop)
        else:
            self._start_term()
        self.runnables.start()
        self._supervisor = threading.Thread(target=self._supervise, name="controller-supervisor", daemon=True)
        self._supervisor.start()

    def _supervise(self) -> None:
        while not self._stop.wait(1.0):
            self._heartbeat = time.monotonic()

    def server_port(self, kind: str) -> int | None:
        """The bound port of the ``"health"`` or ``"metrics"`` server (None when disabled)."""
        server = self._servers.get(kind)
        return int(server.port) if server is not None else None

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        """Stop taking work, finish in-flight reconciles within the grace period, release the Lease."""
        self._stop.set()
        self._stop_term(drain=True, timeout=self.grace_period, reason="shutting down", join_timeout=5.0)
        self.runnables.stop("shutting down")
        self._elector_stop.set()  # only now: the elector releases the Lease on its way out
        if self._elector_thread is not None:
            self._elector_thread.join(timeout=10)
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        for server in {id(s): s for s in self._servers.values()}.values():  # one server may serve both
            server.stop()
        self._servers.clear()
        for rec in self.reconcilers.values():
            close = getattr(rec, "close", None)
            if close is not None:
                try:
                    close()
                except Exception as exc:
                    log.warning("reconciler_close_failed", reconciler=rec.name, error=str(exc))
        log.info("controller_stopped", identity=self.identity)

    def run(self, install_signals: bool = True) -> int:
        """Run until SIGTERM/SIGINT (or ``request_stop()``); returns the exit code (0)."""
        if install_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self._stop.set())
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()
        return 0
