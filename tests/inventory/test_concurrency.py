"""Several ``nautilus inventory sync`` processes started at once on a fresh database (a CronJob that
overlaps, shards started together) take turns where they meet instead of failing each other."""

from __future__ import annotations

import os
import subprocess
import sys

from inv_helpers import cli, cli_env
from sqlalchemy import text

from nautilus_core.db import make_engine
from nautilus_core.testing import FleetSpec, populate

PROCESSES = 4


def test_four_syncs_at_once_on_a_fresh_database_all_succeed(empty_db_url, kube_fleet, tmp_path):
    fleet = kube_fleet([f"c{i}" for i in range(6)])
    for i, name in enumerate(fleet.names):
        populate(fleet[name], FleetSpec(namespaces=3, pods_per_namespace=4, nodes=2, services=3, seed=i,
                                        logs=False, events=False))
    env = os.environ | cli_env(empty_db_url, str(fleet.write_kubeconfig(tmp_path / "kc")),
                               INVENTORY_CONCURRENCY="6")
    procs = [subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "inventory", "sync", "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    for code, out, err in results:
        assert code == 0, out + err[-3000:]
        assert '"status": "succeeded"' in out

    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            statuses = [s for (s,) in conn.execute(text("SELECT status FROM sync_run"))]
            clusters = conn.execute(text("SELECT count(*) FROM cluster WHERE deleted_at IS NULL")).scalar()
            namespaces = conn.execute(text("SELECT count(*) FROM namespace WHERE deleted_at IS NULL")).scalar()
    finally:
        engine.dispose()
    assert statuses == ["succeeded"] * PROCESSES
    assert clusters == 6
    assert namespaces == sum(len(fleet[n].list("v1", "namespaces")) for n in fleet.names)
    listed = cli("inventory", "clusters", env=cli_env(empty_db_url, ""))
    assert listed.returncode == 0 and all(f"c{i}" in listed.stdout for i in range(6))
