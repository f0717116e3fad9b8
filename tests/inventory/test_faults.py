"""Faults during a sync: one provider, one cluster, one enricher, the database, or one object fails —
the rest completes, nothing that failed is deleted, the run records it, the next run converges."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import event, select, text

from nautilus_core.db import Cluster, Namespace, Node, Service, make_engine
from nautilus_core.inventory.providers import KubeconfigProvider

TABLES = (Cluster, Namespace, Node, Service)


def rows_of(engine, cluster_name):
    """Every column (last_seen_at included) of the cluster's rows: 'untouched' means equal."""
    c = Cluster.__table__
    with engine.connect() as conn:
        cid = conn.execute(select(c.c.id).where(c.c.name == cluster_name)).scalar()
        out = {"cluster": [dict(r) for r in conn.execute(select(c).where(c.c.id == cid)).mappings()]}
        for model in TABLES[1:]:
            t = model.__table__
            out[t.name] = [dict(r) for r in conn.execute(select(t).where(t.c.cluster_id == cid)
                                                         .order_by(t.c.id)).mappings()]
    return out


def test_failed_provider_keeps_its_rows_and_the_others_complete(app, fleet, kube_fleet, tmp_path):
    other = kube_fleet(["north"])
    from nautilus_core.testing import FleetSpec, populate

    populate(other["north"], FleetSpec(namespaces=2, pods_per_namespace=5, nodes=2, services=2,
                                       logs=False, events=False))
    other_config = other.write_kubeconfig(tmp_path / "other")
    providers = {"kubeconfig": fleet.provider(), "datacenter": KubeconfigProvider(str(other_config), name="datacenter")}
    assert app.sync_inventory(providers=providers).status == "succeeded"
    before = rows_of(app.engine, "north")
    other_config.write_text("contexts: [[[ not yaml")

    fleet["east"].create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "later"}})
    report = app.sync_inventory(providers=providers)
    assert report.status == "partial"
    [failure] = report.failures
    assert failure.provider == "datacenter" and failure.cluster is None
    assert str(other_config) in failure.error
    assert rows_of(app.engine, "north") == before          # untouched, not tombstoned
    assert "later" in {n["name"] for n in app.inventory("namespaces", clusters=["east"])}
    run = app.sync_runs(1)[0]
    assert run["status"] == "partial" and "datacenter" in run["error"]


@pytest.mark.parametrize("fault", ["http-500", "http-403", "timeout", "refused", "token-rejected"])
def test_failing_cluster_keeps_its_rows_and_the_others_complete(app, fleet, fault, monkeypatch):
    app.sync_inventory(providers=fleet.providers())
    before = rows_of(app.engine, "west")
    west = fleet["west"]
    outage = None
    if fault == "http-500":
        west.inject(status=500, times=None)
    elif fault == "http-403":
        west.inject(status=403, times=None)
    elif fault == "timeout":
        monkeypatch.setenv("NAUTILUS_KUBE_TIMEOUT", "0.5")
        outage = west.unreachable("hang")
    elif fault == "refused":
        outage = west.unreachable("refuse")
    else:
        west.token = "only-the-real-one"   # the kubeconfig carries no such token: 401
    fleet["east"].create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "later"}})
    try:
        report = app.sync_inventory(providers=fleet.providers())
    finally:
        if outage:
            outage.restore()
    assert report.status == "partial"
    [failure] = report.failures
    assert failure.cluster == "kubeconfig///west"
    assert failure.error
    assert rows_of(app.engine, "west") == before
    assert "later" in {n["name"] for n in app.inventory("namespaces", clusters=["east"])}
    assert "kubeconfig///west" in app.sync_runs(1)[0]["error"]


def test_one_failing_enricher_leaves_its_kind_as_it_was(app, fleet):
    app.sync_inventory(providers=fleet.providers())
    services_before = rows_of(app.engine, "west")["service"]
    west = fleet["west"]
    victim = next(iter(fleet.summaries["west"].services))
    west.delete("v1", "services", victim[1], namespace=victim[0])
    west.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "added"}})
    west.inject(method="GET", path=re.compile(r"^/api/v1/services$"), status=500, times=None)

    report = app.sync_inventory(providers=fleet.providers())
    [failure] = report.failures
    assert failure.cluster == "kubeconfig///west" and failure.error.startswith("services:")
    after = rows_of(app.engine, "west")
    assert after["service"] == services_before            # the deleted service is NOT tombstoned
    assert "added" in {n["name"] for n in after["namespace"]}
    problems = after["cluster"][0]["problems"]
    assert any(p.get("enricher") == "services" for p in problems)


def test_429_with_retry_after_is_honoured(app, fleet, monkeypatch):
    monkeypatch.setenv("NAUTILUS_KUBE_RETRIES", "3")
    fault = fleet["west"].inject(method="GET", path=re.compile(r"^/api/v1/nodes$"), status=429,
                                 headers={"Retry-After": "1"}, times=1)
    fleet["west"].requests.clear()
    started = time.monotonic()
    report = app.sync_inventory(providers=fleet.providers())
    waited = time.monotonic() - started
    assert report.status == "succeeded", report.summary()
    assert fault.hits == 1
    assert len(fleet["west"].requests.filter(method="GET", path=re.compile(r"^/api/v1/nodes$"))) == 2
    assert waited >= 1.0   # the client slept as told before asking again


def test_malformed_objects_are_counted_not_fatal(app, fleet):
    good = fleet["west"].list("v1", "nodes")[0]
    body = {"apiVersion": "v1", "kind": "NodeList", "metadata": {"resourceVersion": "1"},
            "items": [good, {"metadata": {}}, {"metadata": {"name": "weird"}, "status": {"conditions": "oops"}},
                      "not-an-object"]}
    fleet["west"].inject(method="GET", path=re.compile(r"^/api/v1/nodes$"), status=200, body=body, times=1)
    fleet["west"].create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "odd", "namespace": "default"},
                          "spec": {"containers": [{"name": "c", "image": "x"}]}, "status": {"phase": "Martian"}})
    report = app.sync_inventory(providers=fleet.providers())
    assert report.status == "succeeded", report.summary()
    west = app.inventory("clusters", clusters=["west"])[0]
    labels = {p["label"]: p["count"] for p in west["problems"] if "label" in p}
    assert labels == {"node:missing-metadata.name": 1, "node:not-an-object": 1, "node:malformed-status.conditions": 1}
    named = {p["label"]: p.get("objects") for p in west["problems"] if "label" in p}
    assert named["node:malformed-status.conditions"] == ["weird"]
    # a node with one unreadable field is kept (its conditions unknown); one without a name cannot be
    nodes = {n["name"]: n for n in app.inventory("nodes", clusters=["west"])}
    assert set(nodes) == {good["metadata"]["name"], "weird"} and nodes["weird"]["ready"] is None
    assert west["pod_counts"]["Martian"] == 1


def test_database_dropped_mid_write_rolls_back_the_cluster_and_next_run_converges(app, fleet, db_url):
    engine = app.engine
    state = {"done": False}

    @event.listens_for(engine, "before_cursor_execute")
    def drop_connection(conn, cursor, statement, parameters, context, executemany):
        if state["done"] or not statement.lstrip().upper().startswith("INSERT INTO SERVICE"):
            return
        state["done"] = True
        dbapi = conn.connection.dbapi_connection
        if conn.dialect.name == "postgresql":
            pid = dbapi.info.backend_pid
            killer = make_engine(db_url)
            with killer.begin() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killer.dispose()
        else:
            dbapi.close()

    try:
        report = app.sync_inventory(providers=fleet.providers())
    finally:
        event.remove(engine, "before_cursor_execute", drop_connection)
    assert state["done"]
    [failure] = report.failures
    assert failure.error.startswith("database:")
    hit = failure.cluster.rsplit("/", 1)[1]
    assert rows_of(app.engine, hit) == {"cluster": [], "namespace": [], "node": [], "service": []}

    report = app.sync_inventory(providers=fleet.providers())
    assert report.status == "succeeded"
    rows = rows_of(app.engine, hit)
    assert len(rows["service"]) == len(fleet.summaries[hit].services)
    assert len(rows["node"]) == len(fleet.summaries[hit].nodes)
