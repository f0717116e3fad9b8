"""``LeaderElector``: leader election with a ``coordination.k8s.io/v1`` Lease, the way client-go does it.

Owns one candidate's side of the election: creating the Lease when it is missing, taking it over once
it has expired (judged by *our* clock: how long the record has stayed unchanged since we last saw it
change, never the remote timestamps), renewing it every ``retry_period``, stepping down as soon as a
renewal has not succeeded for ``renew_deadline``, and releasing it on the way out (holderIdentity ""
and leaseDurationSeconds 1, as client-go's ReleaseOnCancel) so another candidate need not wait for
expiry. Every write is a PUT with the observed resourceVersion: a 409 Conflict means someone else won.
Called by the controller runtime, which runs one elector per process and starts or stops its work
from ``on_started_leading`` / ``on_stopped_leading``.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from nautilus_core.errors import ConfigError
from nautilus_core.kube.client import KubeClient, resource_path
from nautilus_core.kube.errors import Conflict, NotFound

log = structlog.get_logger(__name__)

API_VERSION = "coordination.k8s.io/v1"
JITTER = 1.2  # acquire attempts wait retry_period * (1 + random() * JITTER), like client-go
MIN_TIMEOUT = 0.05  # seconds: the shortest request timeout we ask for when a deadline is close


def micro_time(now: datetime | None = None) -> str:
    """A Kubernetes MicroTime: RFC 3339 in UTC with microseconds (``2024-05-01T12:00:00.123456Z``)."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """One candidate for the Lease ``namespace/name``; ``run(stop)`` campaigns until ``stop`` is set.

    Timings (seconds) must satisfy ``lease_duration > renew_deadline > 1.2 * retry_period`` (else
    :class:`ConfigError`). Callbacks run on the elector's thread, must return quickly (start or signal
    the real work elsewhere) and may raise: exceptions are logged. ``on_stopped_leading`` is called
    before the Lease is released, so the work can stop before another candidate starts it. ``clock``
    (monotonic seconds) measures expiry and deadlines; the Lease's timestamps use the wall clock.

    Give the elector a client with ``RetryPolicy.off()``: it retries by itself, within its deadlines, and
    bounds each request's timeout by the time left. ``is_leader`` turns false at the renew deadline even
    while the elector's thread is still stuck in a request; ``on_stopped_leading`` follows when it returns.
    """

    def __init__(self, client: KubeClient, *, name: str, namespace: str, identity: str,
                 lease_duration: float = 15.0, renew_deadline: float = 10.0, retry_period: float = 2.0,
                 on_started_leading: Callable[[], None] | None = None,
                 on_stopped_leading: Callable[[], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        for param, value in (("name", name), ("namespace", namespace), ("identity", identity)):
            if not value:
                raise ConfigError(f"leader election: {param} must not be empty")
        if not retry_period > 0:
            raise ConfigError(f"leader election: retry_period ({retry_period}) must be positive")
        if not renew_deadline > JITTER * retry_period:
            raise ConfigError(f"leader election: renew_deadline ({renew_deadline}) must be greater than "
                              f"{JITTER} x retry_period ({retry_period})")
        if not lease_duration > renew_deadline:
            raise ConfigError(f"leader election: lease_duration ({lease_duration}) must be greater than "
                              f"renew_deadline ({renew_deadline})")
        self.client = client
        self.name, self.namespace, self._identity = name, namespace, identity
        self.lease_duration, self.renew_deadline, self.retry_period = lease_duration, renew_deadline, retry_period
        self.on_started_leading, self.on_stopped_leading = on_started_leading, on_stopped_leading
        self._clock = clock
        self._path = resource_path(API_VERSION, "leases", namespace, name)
        self._log = log.bind(lease=f"{namespace}/{name}", identity=identity)
        self._io = threading.RLock()  # one attempt, step-down or release at a time (callbacks included)
        self._lock = threading.Lock()  # guards the fields below
        self._leading = False
        self._valid_until = 0.0  # our clock: leadership lapses here unless a renewal succeeds
        self._lease: dict[str, Any] | None = None  # the Lease as last read or written
        self._observed: dict[str, Any] | None = None  # its spec when it last changed...
        self._observed_at = 0.0  # ...and when we saw that change (our clock)

    # ------------------------------------------------------------------ state

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def is_leader(self) -> bool:
        """True while we hold the Lease and our last successful renewal is within ``renew_deadline``."""
        with self._lock:
            return self._leading and self._clock() < self._valid_until

    @property
    def observed_holder(self) -> str | None:
        """The holderIdentity of the Lease as last seen (None: not seen yet, or nobody holds it)."""
        with self._lock:
            return (self._observed or {}).get("holderIdentity") or None

    def __repr__(self) -> str:
        return f"LeaderElector({self.namespace}/{self.name}, identity={self._identity!r})"

    # ------------------------------------------------------------------ loop

    def run(self, stop: threading.Event) -> None:
        """Acquire, renew and (on ``stop``) release the Lease; never raises, returns once ``stop`` is set."""
        self._log.info("lease_election_started")
        try:
            while not stop.is_set():
                stop.wait(self._step())
        finally:
            self.release()

    def start_in_thread(self, stop: threading.Event) -> threading.Thread:
        """``run(stop)`` in a new daemon thread (started); set ``stop`` and join it to end the election."""
        thread = threading.Thread(target=self.run, args=(stop,), daemon=True,
                                  name=f"lease-{self.name}-{self._identity}")
        thread.start()
        return thread

    def _jittered(self) -> float:
        return self.retry_period * (1.0 + random.random() * JITTER)

    def _step(self) -> float:
        """One attempt to acquire or renew; returns the seconds to wait before the next one."""
        with self._io:
            if self._lapsed():
                self._step_down("renew_deadline_exceeded")
                return self._jittered()
            started = self._clock()
            leading = self._is_leading()
            try:
                won = self._try_acquire_or_renew()
            except Exception as exc:  # errors never leave the loop: a failed attempt is retried
                won = False
                self._log.warning("lease_renew_failed" if leading else "lease_acquire_failed",
                                  error=str(exc), error_type=type(exc).__name__)
            if won and self._clock() < started + self.renew_deadline:  # a success that took too long is none
                with self._lock:
                    self._valid_until = started + self.renew_deadline
                    became, self._leading = not self._leading, True
                    transitions = (self._observed or {}).get("leaseTransitions")
                if became:
                    self._log.info("lease_acquired", transitions=transitions)
                    self._call(self.on_started_leading, "on_started_leading")
                return self.retry_period
            if not self._is_leading():
                return self._jittered()
            holder = self.observed_holder
            if holder is not None and holder != self._identity:
                self._step_down("taken_over", holder=holder)
                return self._jittered()
            return max(0.0, min(self.retry_period, self._valid_until - self._clock()))

    def _is_leading(self) -> bool:
        with self._lock:
            return self._leading

    def _lapsed(self) -> bool:
        with self._lock:
            return self._leading and self._clock() >= self._valid_until

    def _step_down(self, reason: str, **kw: Any) -> None:
        with self._lock:
            if not self._leading:
                return
            self._leading = False
        self._log.warning("lease_lost", reason=reason, **kw)
        self._call(self.on_stopped_leading, "on_stopped_leading")

    def _call(self, callback: Callable[[], None] | None, what: str) -> None:
        if callback is None:
            return
        try:
            callback()
        except Exception:
            self._log.exception("lease_callback_failed", callback=what)

    # ------------------------------------------------------------------ API

    def _timeout(self) -> tuple[float, float]:
        """Request timeouts that end by our deadline: a hung renewal must not keep us leading."""
        with self._lock:
            limit = self._valid_until - self._clock() if self._leading else self.renew_deadline
        limit = max(MIN_TIMEOUT, limit)
        connect, read = self.client.timeout
        return min(connect, limit), min(read, limit)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return dict(self.client.request_json(method, path, body=body, timeout=self._timeout()))

    def _observe(self, lease: dict[str, Any]) -> dict[str, Any]:
        """Remember the Lease; restart the expiry clock when its spec changed. Returns the spec."""
        spec = lease.get("spec")
        spec = dict(spec) if isinstance(spec, dict) else {}
        with self._lock:
            self._lease = lease
            if spec != self._observed:
                self._observed, self._observed_at = spec, self._clock()
        return spec

    def _expired(self, spec: dict[str, Any]) -> bool:
        duration = spec.get("leaseDurationSeconds")
        if not isinstance(duration, int | float) or duration <= 0:
            duration = self.lease_duration
        with self._lock:
            return self._clock() >= self._observed_at + duration

    def _spec(self, acquired: str, renewed: str, transitions: int) -> dict[str, Any]:
        return {"holderIdentity": self._identity, "leaseDurationSeconds": max(1, math.ceil(self.lease_duration)),
                "acquireTime": acquired, "renewTime": renewed, "leaseTransitions": transitions}

    def _try_acquire_or_renew(self) -> bool:
        """Create, take over or renew the Lease; True when we hold it now. Raises on API errors."""
        now = micro_time()
        try:
            lease = self._request("GET", self._path)
        except NotFound:
            body = {"apiVersion": API_VERSION, "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace}, "spec": self._spec(now, now, 0)}
            try:
                created = self._request("POST", resource_path(API_VERSION, "leases", self.namespace), body)
            except Conflict:
                self._log.info("lease_create_conflict")  # another candidate created it first
                return False
            self._observe(created)
            return True
        spec = self._observe(lease)
        holder = spec.get("holderIdentity") or ""
        ours = holder == self._identity
        if holder and not ours and not self._expired(spec):
            return False
        transitions = spec.get("leaseTransitions")
        transitions = transitions if isinstance(transitions, int) else 0
        previous = spec.get("acquireTime")
        acquired = previous if ours and isinstance(previous, str) and previous else now
        new_spec = {**spec, **self._spec(acquired, now, transitions if ours else transitions + 1)}
        try:
            updated = self._request("PUT", self._path, {**lease, "spec": new_spec})
        except Conflict:
            self._log.info("lease_update_conflict", holder=holder or None)  # someone else wrote first
            return False
        self._observe(updated)
        if not ours:
            self._log.info("lease_taken_over", previous_holder=holder or None)
        return True

    def release(self) -> bool:
        """Give the Lease up now if we lead: ``on_stopped_leading``, then holderIdentity "" and
        leaseDurationSeconds 1 so others take over at once. Returns whether we were leading.

        ``run`` calls it when stopped. Called while ``run`` goes on, the loop competes again.
        """
        with self._io:
            with self._lock:
                leading, lease, self._leading = self._leading, self._lease, False
            if not leading:
                return False
            self._call(self.on_stopped_leading, "on_stopped_leading")
            if lease is None:
                return True
            spec = lease.get("spec")
            spec = spec if isinstance(spec, dict) else {}
            now = micro_time()
            released = {**spec, "holderIdentity": "", "leaseDurationSeconds": 1, "acquireTime": now,
                        "renewTime": now}
            try:
                self._observe(self._request("PUT", self._path, {**lease, "spec": released}))
            except Conflict:
                self._log.info("lease_release_conflict")  # it changed hands already: nothing to give up
            except Exception as exc:  # others take over after expiry instead
                self._log.warning("lease_release_failed", error=str(exc), error_type=type(exc).__name__)
            else:
                self._log.info("lease_released")
            return True
