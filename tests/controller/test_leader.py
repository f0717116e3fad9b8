"""Two controller processes on one database and cluster: only the Lease holder acts; when it is
killed (no release) the other takes over after the lease expires."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from conftest import until
from sqlalchemy import select

from nautilus_core.db import metadata

AUDIT = metadata.tables["audit_log"]


def start(identity, env):
    return subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "controller", "run", "--identity", identity,
                             "--lease-namespace", "default"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def holder(emu):
    lease = emu.get("coordination.k8s.io/v1", "leases", "nautilus-controller", "default")
    return (lease or {}).get("spec", {}).get("holderIdentity") or None


def actors(engine):
    with engine.connect() as conn:
        return {r.actor for r in conn.execute(select(AUDIT.c.actor))}


def test_only_the_leader_acts_and_the_other_takes_over_when_it_dies(db_url, engine, rows, kube_emulator,
                                                                     kubeconfig_path):
    kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-payments"}})
    env = os.environ | {"DATABASE_URL": db_url, "KUBECONFIG": str(kubeconfig_path), "NAMESPACE_PREFIX": "team-",
                        "RECONCILE_INTERVAL": "1", "ENABLE_METRICS": "false", "ENABLE_HEALTH_CHECK": "false",
                        "LEASE_DURATION": "2", "RENEW_DEADLINE": "1.2", "RETRY_PERIOD": "0.3",
                        "NAUTILUS_KUBE_RETRIES": "1", "NAUTILUS_DISABLE_PLUGINS": "eks,gke,aks,oda,scaling"}
    procs = {name: start(name, env) for name in ("alpha", "beta")}
    try:
        first = until(lambda: holder(kube_emulator), what="a leader")
        rows.add("payments", "one", engine="redis")
        until(lambda: kube_emulator.get("apps/v1", "statefulsets", "one", "team-payments"), what="created")
        until(lambda: actors(engine), what="the audit record")   # written right after the API call
        time.sleep(1.5)                                          # both had time to act, if they would
        assert actors(engine) == {f"controller/{first}"}
        creates = kube_emulator.requests.filter(method="PATCH", path="statefulsets/one")
        assert len(creates) == 1

        procs[first].send_signal(signal.SIGKILL)                 # no release: the lease must expire
        procs[first].wait(timeout=10)
        killed_at = time.monotonic()
        second = until(lambda: (h := holder(kube_emulator)) not in (None, first) and h, timeout=20,
                       what="takeover")
        assert time.monotonic() - killed_at < 2 + 3              # lease duration + a few retry periods
        rows.add("payments", "two", engine="redis")
        until(lambda: kube_emulator.get("apps/v1", "statefulsets", "two", "team-payments"),
              what="created by the new leader")
        until(lambda: f"controller/{second}" in actors(engine), what="the new leader's audit record")
        assert actors(engine) == {f"controller/{first}", f"controller/{second}"}

        procs[second].send_signal(signal.SIGTERM)                # graceful: releases the lease
        assert procs[second].wait(timeout=30) == 0
        lease = kube_emulator.get("coordination.k8s.io/v1", "leases", "nautilus-controller", "default")
        assert not lease["spec"].get("holderIdentity")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
