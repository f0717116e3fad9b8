"""Runnables of the controller: started and stopped with it, restarted when they die, on /healthz."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import pytest
from conftest import until


def healthz(runtime) -> tuple[int, str]:
    url = f"http://127.0.0.1:{runtime.server_port('health')}/healthz?verbose"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


class Flaky:
    """Dies ``failures`` times, then runs until cancelled."""

    restart_backoff = (0.05, 0.1)

    def __init__(self, name: str, failures: int) -> None:
        self.name, self.failures, self.runs = name, failures, 0
        self.running = threading.Event()

    def run(self, token) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise RuntimeError(f"{self.name} crashed (run {self.runs})")
        self.running.set()
        token.wait()
        self.running.clear()


def test_a_runnable_that_dies_is_restarted_and_reported(controller):
    flaky, doomed = Flaky("collector", failures=2), Flaky("exporter", failures=10**6)
    runtime = controller(start=False)
    runtime.add_runnable(flaky)
    runtime.add_runnable(doomed)
    runtime.start()
    assert flaky.running.wait(5) and flaky.runs == 3
    _status, body = until(lambda: (h := healthz(runtime))[0] == 500 and h, what="the crash-looping one fails /healthz")
    assert "exporter" in body and "RuntimeError" in body and "collector" not in body
    runtime.stop()
    assert not flaky.running.is_set()                 # cancelled with the controller


def test_a_leader_only_runnable_runs_while_leading_only(controller, kube_emulator):
    loop = Flaky("leader-loop", failures=0)
    runtime = controller(start=False, leader_election=True, lease_namespace="default",
                         lease_timing=(3.0, 2.0, 0.5))
    runtime.add_runnable(loop, leader_only=True)
    runtime.start()
    assert loop.running.wait(10)
    renewals = kube_emulator.inject(method="PUT", path="leases/nautilus-controller", status=500, times=None)
    until(lambda: not runtime.leading, timeout=10, what="lost the Lease")
    # the term is cancelled and joined on the elector's thread right after it steps down
    until(lambda: not loop.running.is_set(), timeout=10, what="the leader-only runnable stopped")
    renewals.cancel()
    status, body = healthz(runtime)
    assert status == 200 and "leader-loop" not in body


def test_healthz_names_every_part_when_healthy(controller):
    runtime = controller(start=False)
    runtime.add_runnable(Flaky("collector", failures=0))
    runtime.start()
    _status, body = until(lambda: (h := healthz(runtime))[0] == 200 and "collector" in h[1] and h, what="healthy")
    assert body.startswith("ok\n") and "collector: running" in body
    assert "term:" in body and "informers running" in body


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_healthz_fails_when_a_worker_thread_is_dead(app, kube):
    from nautilus_core.controller.runtime import ControllerRuntime
    from nautilus_core.types import BaseReconciler

    class Exits(BaseReconciler):
        name = "exits"

        def keys(self):
            return ["k"]

        def reconcile(self, request):
            raise SystemExit("a library called sys.exit()")

    settings = app.settings.model_copy(update={"worker_count": 1, "enable_metrics": False})
    runtime = ControllerRuntime(settings=settings, engine=app.engine, kube=kube,
                                reconcilers={"exits": Exits}, leader_election=False, grace_period=1.0)
    runtime.start()
    try:
        _status, body = until(lambda: (h := healthz(runtime))[0] == 500 and h, what="/healthz fails")
        assert "exits-worker-0" in body
    finally:
        runtime.stop()


def test_readiness_waits_for_sources_to_be_declared_and_listed(app, kube):
    from nautilus_core.controller.runtime import ControllerRuntime
    from nautilus_core.types import BaseReconciler, Watch

    gate = threading.Event()

    class Slow(BaseReconciler):
        name = "slow"

        def sources(self):
            gate.wait(10)                         # e.g. its database is slow to answer
            return [Watch("v1", "configmaps", lambda event, obj: ())]

    settings = app.settings.model_copy(update={"enable_health_check": False, "enable_metrics": False})
    runtime = ControllerRuntime(settings=settings, engine=app.engine, kube=kube, reconcilers={"slow": Slow},
                                leader_election=False, grace_period=1.0)
    runtime.start()
    try:
        assert runtime.readiness_checks()["informers"]() == (False, "watches not synced yet")
        gate.set()
        until(lambda: runtime.readiness_checks()["informers"]() == (True, "synced"), what="synced")
    finally:
        gate.set()
        runtime.stop()


def test_ready_answers_like_readyz(controller):
    runtime = controller()
    base = f"http://127.0.0.1:{runtime.server_port('health')}"

    def get(path):
        try:
            with urllib.request.urlopen(base + path, timeout=5) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read()

    until(lambda: get("/readyz")[0] == 200, what="ready")
    assert get("/ready") == get("/readyz")
