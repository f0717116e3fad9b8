"""Losing the Lease cancels the term: a reconcile blocked mid-flight writes nothing once it returns."""

from __future__ import annotations

import re
import time

from conftest import until
from sqlalchemy import select

from nautilus_core.db import metadata

JOBS, AUDIT = metadata.tables["provisioning_job"], metadata.tables["audit_log"]
LEASE = ("coordination.k8s.io/v1", "leases", "nautilus-controller", "default")


def test_a_reconcile_blocked_when_the_lease_is_lost_writes_nothing_after(controller, rows, kube_emulator, app):
    runtime = controller(leader_election=True, lease_namespace="default", lease_timing=(3.0, 2.0, 0.5))
    until(lambda: runtime.leading, what="leading")
    blocked = kube_emulator.inject(method="PATCH", path=re.compile("statefulsets/held$"), status=None, delay=5.0)
    rows.add("payments", "held", engine="redis")
    until(lambda: blocked.hits, what="the create is in flight")

    renewals = kube_emulator.inject(method="PUT", path="leases/nautilus-controller", status=500, times=None)
    until(lambda: not runtime.leading, timeout=10, what="stepped down at the renew deadline")
    lost_at = time.monotonic()
    renewals.cancel()
    # the other replica takes the Lease and acts
    lease = kube_emulator.get(*LEASE[:2], LEASE[2], LEASE[3])
    kube_emulator.patch(*LEASE[:2], LEASE[2], {"spec": {"holderIdentity": "other-replica"}}, namespace=LEASE[3])
    assert lease is not None
    with app.engine.begin() as conn:
        conn.execute(AUDIT.insert().values(actor="controller/other-replica", action="create",
                                           resource_kind="managed_resource", resource_key="payments/held",
                                           result="succeeded"))
    kube_emulator.requests.clear()
    time.sleep(max(0.0, 5.5 - (time.monotonic() - lost_at)))   # the blocked PATCH has returned meanwhile
    time.sleep(1.0)

    ours = [r for r in kube_emulator.requests.writes if "/leases/" not in r.path]
    assert ours == []                                          # no Service apply, no second try
    with app.engine.connect() as conn:
        audit = conn.execute(select(AUDIT.c.actor)).scalars().all()
        job = conn.execute(select(JOBS)).mappings().one()
    assert audit == ["controller/other-replica"]               # the old term recorded nothing
    assert job["status"] == "running" and job["finished_at"] is None
    assert rows.get("payments", "held")["status"] == "pending"


def test_a_statefulset_deleted_while_another_replica_led_is_recreated_in_the_next_term(controller, rows,
                                                                                       kube_emulator):
    runtime = controller(leader_election=True, lease_namespace="default", lease_timing=(3.0, 2.0, 0.5))
    rows.add("payments", "db1", engine="redis", replicas=1)
    until(lambda: kube_emulator.get("apps/v1", "statefulsets", "db1", "team-payments"), what="created")
    time.sleep(0.6)                                    # the term's informer has seen it

    renewals = kube_emulator.inject(method="PUT", path="leases/nautilus-controller", status=500, times=None)
    until(lambda: not runtime.leading, timeout=10, what="lost the Lease")
    kube_emulator.patch(*LEASE[:2], LEASE[2], {"spec": {"holderIdentity": "other-replica"}}, namespace=LEASE[3])
    renewals.cancel()
    kube_emulator.delete("apps/v1", "statefulsets", "db1", namespace="team-payments")
    kube_emulator.patch(*LEASE[:2], LEASE[2], {"spec": {"holderIdentity": ""}}, namespace=LEASE[3])  # released

    until(lambda: runtime.leading, timeout=10, what="leading again")
    until(lambda: kube_emulator.get("apps/v1", "statefulsets", "db1", "team-payments"), timeout=10,
          what="recreated by the new term")
    scale_404 = [r for r in kube_emulator.requests.filter(method="PATCH", path="statefulsets/db1/scale")]
    assert scale_404 == []
