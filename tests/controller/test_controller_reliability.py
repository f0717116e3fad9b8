"""The controller keeps serving, and reports, whatever rows users write (issue: reliability).

Rows are written with the database's own command-line client (``sqlite3`` / ``psql``) as users do.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from conftest import make_ready, until
from plain_sql import run_sql
from sqlalchemy import select

from nautilus_core.db import metadata

JOBS, AUDIT = metadata.tables["provisioning_job"], metadata.tables["audit_log"]


def readyz(runtime) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{runtime.server_port('health')}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def sts(emu, team, name):
    return emu.get("apps/v1", "statefulsets", name, f"team-{team}")


def test_a_team_that_cannot_be_a_namespace_fails_the_row_and_readiness_holds(controller, rows, kube_emulator,
                                                                             db_url):
    runtime = controller()
    run_sql(db_url, "INSERT INTO managed_resource (team, name, engine) VALUES ('a/b', 'cache', 'redis');"
                    "INSERT INTO managed_resource (team, name, engine) VALUES ('payments', 'ok', 'redis');")
    bad = until(lambda: (r := rows.get("a/b", "cache"))["status"] == "failed" and r, what="row failed")
    assert "'team'" in bad["last_error"] and "a/b" in bad["last_error"]
    until(lambda: sts(kube_emulator, "payments", "ok"), what="the good row is served")
    _status, checks = until(lambda: (answer := readyz(runtime))[0] == 200 and answer, what="ready")
    assert checks["informers"] == {"ok": True, "message": "synced"}
    watched = {r.path for r in kube_emulator.requests.filter(method="GET") if "watch" in r.query}
    assert not [p for p in watched if "a%2F" in p or "a/b" in p]

    run_sql(db_url, "DELETE FROM managed_resource WHERE team = 'a/b';")
    time.sleep(1.2)                                     # two resyncs at 0.5 s
    assert readyz(runtime)[0] == 200


def test_deleting_an_idle_row_in_sql_removes_its_objects_at_the_next_resync(controller, rows, kube_emulator,
                                                                           db_url, app):
    controller()
    run_sql(db_url, "INSERT INTO managed_resource (team, name, engine) VALUES ('search', 'idle', 'redis');")
    until(lambda: sts(kube_emulator, "search", "idle"), what="created")
    make_ready(kube_emulator, "team-search", "idle")
    until(lambda: rows.get("search", "idle")["status"] == "ready", what="ready")
    time.sleep(0.6)                                     # idle: nothing in flight, nothing queued

    run_sql(db_url, "DELETE FROM managed_resource WHERE team = 'search' AND name = 'idle';")
    until(lambda: sts(kube_emulator, "search", "idle") is None, timeout=5, what="StatefulSet of the row removed")
    until(lambda: kube_emulator.get("v1", "services", "idle", "team-search") is None, timeout=5,
          what="Service of the row removed")
    with app.engine.connect() as conn:
        removed = conn.execute(select(AUDIT.c.action, AUDIT.c.message).where(
            AUDIT.c.resource_key == "search/idle", AUDIT.c.action == "delete")).all()
    assert removed and all(m == "row removed from the database" for _a, m in removed)


def test_sigterm_during_a_slow_apply_closes_its_job_as_interrupted(rows, kube_emulator, kubeconfig_path, db_url,
                                                                     app):
    kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-payments"}})
    kube_emulator.inject(method="PATCH", path=re.compile("statefulsets/slow$"), status=None, delay=20.0)
    env = os.environ | {"DATABASE_URL": db_url, "KUBECONFIG": str(kubeconfig_path), "NAMESPACE_PREFIX": "team-",
                        "ENABLE_HEALTH_CHECK": "false", "ENABLE_METRICS": "false", "RECONCILE_INTERVAL": "1",
                        "NAUTILUS_KUBE_RETRIES": "0", "NAUTILUS_DISABLE_PLUGINS": "eks,gke,aks"}
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "controller", "run", "--no-leader-election",
                             "--grace-period", "0.5"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        run_sql(db_url, "INSERT INTO managed_resource (team, name, engine) VALUES ('payments', 'slow', 'redis');")
        until(lambda: kube_emulator.requests.filter(method="PATCH", path="statefulsets/slow"), what="in flight")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    with app.engine.connect() as conn:
        job = conn.execute(select(JOBS)).mappings().one()
    assert job["action"] == "create" and job["status"] == "interrupted" and job["finished_at"] is not None
    assert "interrupted" in job["error"]


def test_a_row_deleted_mid_reconcile_is_a_normal_outcome(controller, rows, kube_emulator, app):
    runtime = controller()
    kube_emulator.inject(method="PATCH", path=re.compile("statefulsets/brief$"), status=None, delay=1.0)
    rows.add("payments", "brief", engine="redis")

    def jobs():
        with app.engine.connect() as conn:
            return conn.execute(select(JOBS.c.status)).all()

    until(jobs, what="the create is in flight")
    with app.engine.begin() as conn:
        conn.execute(metadata.tables["managed_resource"].delete())
    until(lambda: kube_emulator.requests.filter(method="DELETE", path="statefulsets/brief"),
          what="the StatefulSet created after the row was gone is deleted")
    until(lambda: sts(kube_emulator, "payments", "brief") is None and
          kube_emulator.get("v1", "services", "brief", "team-payments") is None, timeout=10,
          what="what the vanished row's reconcile created is removed")
    time.sleep(0.6)
    assert runtime.metrics.sample("controller_runtime_reconcile_errors_total", {"controller": "statefulsets"}) == 0
    with app.engine.connect() as conn:
        actions = conn.execute(select(AUDIT.c.action, AUDIT.c.result, AUDIT.c.message).where(
            AUDIT.c.resource_key == "payments/brief").order_by(AUDIT.c.id)).all()
    assert ("delete", "succeeded", "row removed from the database") in actions
