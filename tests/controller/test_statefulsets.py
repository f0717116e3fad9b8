"""The statefulsets reconciler under the runtime: rows become StatefulSets + Services and stay so."""

from __future__ import annotations

import re
import time

from conftest import make_ready, until
from sqlalchemy import select

from nautilus_core.db import metadata

JOBS, AUDIT = metadata.tables["provisioning_job"], metadata.tables["audit_log"]


def sts(emu, team, name):
    return emu.get("apps/v1", "statefulsets", name, f"team-{team}")


def audit(engine, key):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(AUDIT).where(AUDIT.c.resource_key == key).order_by(AUDIT.c.id))
                .mappings()]


def test_rows_become_statefulsets_scale_update_and_delete(controller, rows, kube_emulator, app):
    controller()
    rows.add("payments", "ledger", engine="postgres", replicas=2, storage_size="10Gi", cpu="500m", memory="1Gi")
    created = until(lambda: sts(kube_emulator, "payments", "ledger"), what="StatefulSet created")
    labels = created["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "nautilus"
    container = created["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "postgres:16"
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
    claim = created["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    service = until(lambda: kube_emulator.get("v1", "services", "ledger", "team-payments"), what="Service")
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["ports"][0]["port"] == 5432
    managed = [r for r in kube_emulator.requests.filter(method="PATCH") if "statefulsets/ledger" in r.path]
    assert managed[0].query["fieldManager"] == "nautilus"
    until(lambda: rows.get("payments", "ledger")["status"] == "provisioning", what="provisioning")

    make_ready(kube_emulator, "team-payments", "ledger")
    row = until(lambda: (r := rows.get("payments", "ledger"))["status"] == "ready" and r, what="ready")
    assert row["ready_replicas"] == 2 and row["observed_generation"] == row["generation"]

    rows.set("payments", "ledger", replicas=4)
    until(lambda: sts(kube_emulator, "payments", "ledger")["spec"]["replicas"] == 4, what="scaled")
    until(lambda: rows.get("payments", "ledger")["status_message"] == "2/4 replicas ready", what="status 2/4")
    make_ready(kube_emulator, "team-payments", "ledger")
    until(lambda: rows.get("payments", "ledger")["ready_replicas"] == 4, what="4 ready")

    rows.set("payments", "ledger", image="postgres:17.1")
    until(lambda: sts(kube_emulator, "payments", "ledger")["spec"]["template"]["spec"]["containers"][0]["image"]
          == "postgres:17.1", what="image updated")
    assert sts(kube_emulator, "payments", "ledger")["spec"]["volumeClaimTemplates"][0]["spec"]["resources"] == {
        "requests": {"storage": "10Gi"}}

    rows.set("payments", "ledger", desired_state="deleted")
    until(lambda: rows.get("payments", "ledger")["status"] == "deleted", what="deleted")
    assert sts(kube_emulator, "payments", "ledger") is None
    assert kube_emulator.get("v1", "services", "ledger", "team-payments") is None

    actions = [(a["action"], a["result"]) for a in audit(app.engine, "payments/ledger")]
    for expected in [("create", "succeeded"), ("scale", "succeeded"), ("update", "succeeded"),
                     ("delete", "succeeded"), ("deleted", "succeeded")]:
        assert expected in actions
    assert all(a["actor"] == "controller/test-0" for a in audit(app.engine, "payments/ledger"))
    with app.engine.connect() as conn:
        jobs = conn.execute(select(JOBS.c.action, JOBS.c.status)).all()
    assert {j.action for j in jobs} >= {"create", "scale", "update", "delete"}
    assert all(j.status == "succeeded" for j in jobs)


def test_invalid_rows_fail_naming_the_field_and_others_keep_reconciling(controller, rows, kube_emulator):
    controller()
    rows.add("payments", "negative", replicas=-1 if False else 1, engine="oracle")
    rows.add("payments", "badimage", image="Not An Image!!")
    rows.add("search", "nospace", engine="redis")
    rows.add("payments", "good", engine="redis", replicas=1)
    rows.add("ghosts", "orphan", engine="redis")   # namespace team-ghosts does not exist
    until(lambda: sts(kube_emulator, "payments", "good"), what="good row reconciled")
    bad = until(lambda: (r := rows.get("payments", "negative"))["status"] == "failed" and r, what="engine failed")
    assert "'engine'" in bad["last_error"] and "oracle" in bad["last_error"]
    bad = until(lambda: (r := rows.get("payments", "badimage"))["status"] == "failed" and r, what="image failed")
    assert "'image'" in bad["last_error"]
    ghost = until(lambda: (r := rows.get("ghosts", "orphan"))["status"] == "failed" and r, what="namespace")
    assert "team-ghosts" in ghost["last_error"] and "'team'" in ghost["last_error"]
    assert sts(kube_emulator, "payments", "negative") is None and sts(kube_emulator, "payments", "badimage") is None

    rows.set("payments", "badimage", image="nginx:1.27")     # fixing the row un-parks it
    rows.set("payments", "badimage", engine="generic")
    until(lambda: sts(kube_emulator, "payments", "badimage"), what="fixed row reconciled")


def test_other_lifecycle_modes_and_foreign_objects_are_never_touched(controller, rows, kube_emulator):
    kube_emulator.create({"apiVersion": "apps/v1", "kind": "StatefulSet",
                          "metadata": {"name": "legacy", "namespace": "team-payments", "labels": {"owner": "dba"}},
                          "spec": {"replicas": 1, "selector": {}, "template": {}}})
    controller()
    rows.add("payments", "watched", lifecycle_mode="observe")
    rows.add("payments", "legacy", engine="postgres", replicas=3)
    failed = until(lambda: (r := rows.get("payments", "legacy"))["status"] == "failed" and r, what="foreign")
    assert "not managed by nautilus" in failed["last_error"]
    time.sleep(1.0)
    assert sts(kube_emulator, "payments", "watched") is None
    assert sts(kube_emulator, "payments", "legacy")["spec"]["replicas"] == 1
    writes = [r for r in kube_emulator.requests.writes if "legacy" in r.path or "watched" in r.path]
    assert writes == []


def test_manual_edits_and_deletes_are_reconciled_back(controller, rows, kube_emulator):
    controller()
    rows.add("search", "index", engine="redis", replicas=1, memory="256Mi")
    until(lambda: sts(kube_emulator, "search", "index"), what="created")
    kube_emulator.patch("apps/v1", "statefulsets", "index", {"spec": {"template": {"spec": {"containers": [
        {"name": "redis", "image": "redis:6"}]}}}}, namespace="team-search")
    until(lambda: sts(kube_emulator, "search", "index")["spec"]["template"]["spec"]["containers"][0]["image"]
          == "redis:7.4", what="drift reverted")
    kube_emulator.delete("apps/v1", "statefulsets", "index", namespace="team-search")
    until(lambda: sts(kube_emulator, "search", "index"), what="recreated")


def test_api_failures_back_off_then_park_and_a_fix_retries(controller, rows, kube_emulator, app):
    runtime = controller()
    fault = kube_emulator.inject(method="PATCH", path=re.compile("statefulsets/flaky$"), status=500, times=None)
    rows.add("payments", "flaky", engine="redis")
    parked = until(lambda: (r := rows.get("payments", "flaky"))["parked"] and r, what="parked")
    assert parked["status"] == "failed" and "500" in parked["last_error"]
    attempts = fault.hits
    assert attempts == 1 + app.settings.max_retries      # first try + MAX_RETRIES, then parked
    time.sleep(1.5)                                       # resyncs do not retry a parked row
    assert fault.hits == attempts
    with app.engine.connect() as conn:
        job = conn.execute(select(JOBS).where(JOBS.c.action == "create")).mappings().one()
    assert job["status"] == "failed" and job["attempts"] == attempts
    fault.cancel()
    assert app.retry_resource("payments/flaky")
    until(lambda: sts(kube_emulator, "payments", "flaky"), what="created after retry")
    until(lambda: rows.get("payments", "flaky")["status"] == "provisioning", what="healthy again")
    assert runtime.metrics.sample("controller_runtime_reconcile_total",
                                  {"controller": "statefulsets", "result": "parked"}) >= 1


def test_steady_state_makes_no_api_and_no_database_writes(controller, rows, kube_emulator, app):
    runtime = controller()
    for name in ("a", "b", "c"):
        rows.add("payments", name, engine="redis", replicas=1)
    for name in ("a", "b", "c"):
        until(lambda name=name: sts(kube_emulator, "payments", name), what="created")
        make_ready(kube_emulator, "team-payments", name)
    for name in ("a", "b", "c"):
        until(lambda name=name: rows.get("payments", name)["status"] == "ready", what="ready")
    time.sleep(0.6)
    kube_emulator.requests.clear()
    before = {n: rows.get("payments", n) for n in ("a", "b", "c")}
    done_before = runtime.metrics.sample("controller_runtime_reconcile_total",
                                         {"controller": "statefulsets", "result": "success"})
    time.sleep(2.0)                                         # four resyncs at 0.5 s
    assert kube_emulator.requests.writes == []
    assert {n: rows.get("payments", n) for n in ("a", "b", "c")} == before
    done_after = runtime.metrics.sample("controller_runtime_reconcile_total",
                                        {"controller": "statefulsets", "result": "success"})
    assert done_after == done_before                        # resyncs compared fingerprints: no reconcile ...
    reads = [r for r in kube_emulator.requests.filter(method="GET") if r.query.get("watch") != "true"]
    assert reads == []                                      # ... and no API read beyond the watches

    kube_emulator.patch("apps/v1", "statefulsets", "b", {"metadata": {"labels": {"app.kubernetes.io/name": "x"}}},
                        namespace="team-payments")          # drift is still put back at once
    until(lambda: sts(kube_emulator, "payments", "b")["metadata"]["labels"]["app.kubernetes.io/name"] == "redis",
          what="drift reverted")


def test_database_change_feed_picks_up_rows_between_resyncs(controller, rows, kube_emulator, app):
    app.settings = app.settings.model_copy(update={"reconcile_interval": 60.0})
    controller()
    time.sleep(2.5)                                   # past the first poll, long before a resync
    rows.add("search", "fresh", engine="redis")        # into an empty table
    until(lambda: sts(kube_emulator, "search", "fresh"), timeout=10, what="created by the change feed")
    rows.set("search", "fresh", replicas=3)
    until(lambda: sts(kube_emulator, "search", "fresh")["spec"]["replicas"] == 3, timeout=10, what="scaled")


def test_plain_sql_updates_reach_the_change_feed(controller, rows, kube_emulator, app):
    from sqlalchemy import text

    app.settings = app.settings.model_copy(update={"reconcile_interval": 60.0})
    controller()
    rows.add("payments", "sql", engine="redis")
    until(lambda: sts(kube_emulator, "payments", "sql"), timeout=10, what="created")
    with app.engine.begin() as conn:    # what a DBA types: no updated_at
        conn.execute(text("UPDATE managed_resource SET replicas = 4 WHERE team = 'payments' AND name = 'sql'"))
    until(lambda: sts(kube_emulator, "payments", "sql")["spec"]["replicas"] == 4, timeout=10,
          what="scaled without waiting for a resync")


def test_postgresql_notify_announces_changes_to_the_store(app, rows, db_url):
    import pytest
    from sqlalchemy.engine import make_url

    from nautilus_core.reconcilers.statefulsets.store import ResourceStore

    if make_url(db_url).get_backend_name() != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite is served by the poll")
    store = ResourceStore(app.engine, actor="test")
    try:
        assert store.notified(wait=0.1) == []          # LISTEN is set up by the first call
        rows.add("payments", "announced", engine="redis")
        rows.set("search", "nothing", replicas=2)       # no such row: no notification
        assert store.notified(wait=2.0) == ["payments/announced"]
        from sqlalchemy import text
        with app.engine.begin() as conn:                # a plain SQL change, through the updated_at trigger
            conn.execute(text("UPDATE managed_resource SET replicas = 7 WHERE name = 'announced'"))
        assert store.notified(wait=2.0) == ["payments/announced"]
    finally:
        store.close()
