"""The ``sync_run`` record tells the truth: ``failed`` when nothing was synced, ``interrupted`` when
the process died (``kill -9``) instead of ``running`` forever. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import timedelta

from inv_helpers import cli, cli_env
from sqlalchemy import text

from nautilus_core.db import utcnow
from nautilus_core.inventory.pipeline import InventorySync
from nautilus_core.testing import FleetSpec, populate

NODES = re.compile(r"^/api/v1/nodes$")


def test_a_run_where_every_cluster_failed_is_failed(app, fleet):
    assert app.sync_inventory(providers=fleet.providers()).status == "succeeded"
    fleet["east"].inject(status=500, times=None)
    fleet["west"].inject(status=500, times=None)
    report = app.sync_inventory(providers=fleet.providers())
    assert report.status == "failed", report.summary()
    assert app.sync_runs(1)[0]["status"] == "failed"


def test_a_run_with_one_enricher_failing_everywhere_is_partial_not_failed(app, fleet):
    for name in ("east", "west"):
        fleet[name].inject(method="GET", path=NODES, status=500, times=None)
    report = app.sync_inventory(providers=fleet.providers())
    assert report.status == "partial"        # namespaces and services were written
    assert {n["cluster"] for n in app.inventory("namespaces")} == {"east", "west"}


def test_the_heartbeat_moves_while_a_run_works(app, fleet):
    fleet["west"].inject(method="GET", path=NODES, status=None, delay=1.5, times=1)
    enrichers = {n: r.obj for n, r in app.plugins.enrichers().items()}
    report = InventorySync(app.engine, fleet.providers(), enrichers, heartbeat=0.2).run()
    [run] = app.sync_runs(1)
    assert run["id"] == report.run_id and run["status"] == "succeeded"
    with app.engine.connect() as conn:
        started, beat = conn.execute(text("SELECT started_at, heartbeat_at FROM sync_run WHERE id = :i"),
                                     {"i": report.run_id}).one()
    as_text = [str(v) for v in (started, beat)]
    assert as_text[1] > as_text[0] and run["pid"] and run["host"]


def test_a_run_silent_past_the_stale_limit_is_interrupted_whoever_ran_it(app, engine):
    old, fresh = utcnow() - timedelta(minutes=10), utcnow()
    with engine.begin() as conn:
        for started in (old, fresh):
            conn.execute(text("INSERT INTO sync_run (started_at, heartbeat_at, status, host, pid) "
                              "VALUES (:t, :t, 'running', 'another-host', 4242)"),
                         {"t": started.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
                          if engine.dialect.name == "postgresql" else started.strftime("%Y-%m-%d %H:%M:%S.%f")})
    statuses = [r["status"] for r in app.sync_runs(2)]
    assert statuses == ["running", "interrupted"]          # newest first: the fresh one is alive


def test_a_run_killed_with_sigkill_is_shown_interrupted_and_recorded_by_the_next_run(engine, db_url, kube_fleet,
                                                                                    tmp_path):
    fleet = kube_fleet(["slow"])
    populate(fleet["slow"], FleetSpec(namespaces=1, pods_per_namespace=2, nodes=1, services=1, logs=False,
                                      events=False))
    env = cli_env(db_url, str(fleet.write_kubeconfig(tmp_path / "kc")), NAUTILUS_KUBE_TIMEOUT="120")
    stall = fleet["slow"].inject(method="GET", path=NODES, status=None, delay=60, times=1)
    import os

    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "inventory", "sync"], env=os.environ | env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while stall.hits == 0:                           # the run is inside the cluster's API calls
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.kill()                                      # SIGKILL: no finally, no atexit
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stall.cancel()
    with engine.connect() as conn:
        [(killed_id, stored)] = conn.execute(text("SELECT id, status FROM sync_run")).all()
    assert stored == "running"

    shown = cli("inventory", "runs", "--json", env=env)
    [run] = json.loads(shown.stdout)["runs"]
    assert run["id"] == killed_id and run["status"] == "interrupted" and "interrupted" in run["error"]
    table = cli("inventory", "runs", env=env).stdout
    assert re.search(rf"^{killed_id}\s.*\binterrupted\b", table, re.M), table

    again = cli("inventory", "sync", env=env)
    assert again.returncode == 0, again.stderr
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, status FROM sync_run")).all())
        finished = conn.execute(text("SELECT finished_at FROM sync_run WHERE id = :i"), {"i": killed_id}).scalar()
    assert rows.pop(killed_id) == "interrupted" and finished is not None   # written to the database
    assert list(rows.values()) == ["succeeded"]
