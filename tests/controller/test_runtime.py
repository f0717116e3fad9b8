"""The runtime as users run it: health, readiness, metrics, SIGTERM, database outages."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from conftest import make_ready, until
from sqlalchemy import text
from sqlalchemy.engine import make_url

from nautilus_core.db import make_engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError:
        return 0, ""


def test_cli_controller_serves_health_and_metrics_and_drains_on_sigterm(db_url, engine, kube_emulator,
                                                                        kubeconfig_path, rows, tmp_path):
    kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-payments"}})
    health, metrics = free_port(), free_port()
    env = os.environ | {"DATABASE_URL": db_url, "KUBECONFIG": str(kubeconfig_path), "NAMESPACE_PREFIX": "team-",
                        "HEALTH_CHECK_PORT": str(health), "METRICS_PORT": str(metrics), "RECONCILE_INTERVAL": "1",
                        "LOG_FORMAT": "json", "NAUTILUS_KUBE_RETRIES": "1", "NAUTILUS_DISABLE_PLUGINS": "eks,gke,aks"}
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from nautilus_core.cli import main; "
                             "sys.exit(main(sys.argv[1:]))", "controller", "run", "--no-leader-election"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        until(lambda: fetch(f"http://127.0.0.1:{health}/healthz")[0] == 200, what="/healthz")
        status, body = until(lambda: (r := fetch(f"http://127.0.0.1:{health}/readyz"))[0] == 200 and r,
                             what="/readyz 200")
        assert set(json.loads(body)) == {"database", "kubernetes", "informers"}
        rows.add("payments", "ledger", engine="redis")
        until(lambda: kube_emulator.get("apps/v1", "statefulsets", "ledger", "team-payments"), what="created")
        status, body = fetch(f"http://127.0.0.1:{metrics}/metrics")
        assert status == 200
        assert 'controller_runtime_reconcile_total{controller="statefulsets",result="success"}' in body
        assert "workqueue_depth" in body and "controller_runtime_reconcile_time_seconds_bucket" in body

        # a reconcile in flight when SIGTERM arrives is finished before exit
        kube_emulator.inject(method="PATCH", path="statefulsets/slow", status=None, delay=1.5, times=1)
        rows.add("payments", "slow", engine="redis")
        until(lambda: kube_emulator.requests.filter(method="PATCH", path="statefulsets/slow"), what="in flight")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert kube_emulator.get("apps/v1", "statefulsets", "slow", "team-payments") is not None
    assert rows.get("payments", "slow")["status"] == "provisioning"
    assert fetch(f"http://127.0.0.1:{health}/healthz")[0] == 0        # servers are gone


def test_readiness_reports_each_check(controller, kube_emulator):
    runtime = controller()
    port = runtime.server_port("health")
    until(lambda: fetch(f"http://127.0.0.1:{port}/readyz")[0] == 200, what="ready")
    with kube_emulator.unreachable("refuse"):
        time.sleep(2.1)                                              # past the 2 s check cache
        status, body = fetch(f"http://127.0.0.1:{port}/readyz")
    assert status == 503
    checks = json.loads(body)
    assert checks["kubernetes"]["ok"] is False and checks["database"]["ok"] is True


def test_database_outage_blocks_writes_from_stale_state_and_work_resumes(controller, rows, kube_emulator, db_url):
    if make_url(db_url).get_backend_name() != "postgresql":
        pytest.skip("an embedded SQLite file cannot become unreachable; the outage is a PostgreSQL server's")
    runtime = controller()
    rows.add("payments", "ledger", engine="redis", replicas=2)
    until(lambda: kube_emulator.get("apps/v1", "statefulsets", "ledger", "team-payments"), what="created")
    make_ready(kube_emulator, "team-payments", "ledger")
    until(lambda: rows.get("payments", "ledger")["status"] == "ready", what="ready")
    port = runtime.server_port("health")
    name = make_url(db_url).database
    admin = make_engine(make_url(db_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        kube_emulator.requests.clear()
        # someone scales by hand while the desired state cannot be read
        kube_emulator.patch("apps/v1", "statefulsets", "ledger", {"spec": {"replicas": 5}}, namespace="team-payments")
        until(lambda: fetch(f"http://127.0.0.1:{port}/readyz")[0] == 503, what="not ready")
        _, body = fetch(f"http://127.0.0.1:{port}/readyz")
        assert json.loads(body)["database"]["ok"] is False
        time.sleep(1.5)
        assert kube_emulator.requests.writes == []
        assert kube_emulator.get("apps/v1", "statefulsets", "ledger", "team-payments")["spec"]["replicas"] == 5
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()
    until(lambda: kube_emulator.get("apps/v1", "statefulsets", "ledger", "team-payments")["spec"]["replicas"] == 2,
          what="scaled back once the database is back")
    until(lambda: fetch(f"http://127.0.0.1:{port}/readyz")[0] == 200, what="ready again")


def test_a_panicking_reconciler_does_not_kill_its_worker(app, kube):
    from nautilus_core.controller.runtime import ControllerRuntime
    from nautilus_core.types import Outcome

    calls: list[str] = []

    class Flaky:
        name = "flaky"

        def keys(self):
            return ["boom", "fine"]

        def sources(self):
            return []

        def reconcile(self, request):
            calls.append(request.key)
            if request.key == "boom":
                raise RuntimeError("bug in reconciler")
            return Outcome.done()

    settings = app.settings.model_copy(update={"worker_count": 1, "enable_health_check": False,
                                               "enable_metrics": False})
    runtime = ControllerRuntime(settings=settings, engine=app.engine, kube=kube,
                                reconcilers={"flaky": lambda c: Flaky()}, leader_election=False)
    runtime.start()
    try:
        until(lambda: calls.count("fine") >= 2 and calls.count("boom") >= 2, what="both keys, twice")
        assert runtime.metrics.sample("controller_runtime_reconcile_total",
                                      {"controller": "flaky", "result": "error"}) >= 1
    finally:
        runtime.stop()
