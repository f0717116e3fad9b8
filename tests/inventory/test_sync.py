"""Inventory sync against the emulated fleet: what lands in the database, and how it stays true."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from nautilus_core.db import Cluster, Namespace, Node, Service, SyncOutcome, SyncRun, utcnow
from nautilus_core.testing import SYSTEM_NAMESPACES

TABLES = (Cluster, Namespace, Node, Service)


def dump(engine, drop=("last_seen_at",)):
    out = {}
    with engine.connect() as conn:
        for model in TABLES:
            table = model.__table__
            rows = conn.execute(select(table).order_by(table.c.id)).mappings().all()
            out[table.name] = [{k: v for k, v in r.items() if k not in drop} for r in rows]
    return out


def test_first_sync_matches_what_the_emulator_holds(app, fleet):
    report = app.sync_inventory(providers=fleet.providers())
    assert report.status == "succeeded", report.summary()
    clusters = {c["name"]: c for c in app.inventory("clusters")}
    assert set(clusters) == {"east", "west"}
    for name, summary in fleet.summaries.items():
        row = clusters[name]
        expected_pods = Counter(summary.expected_status(ns, pod) for ns, pod in summary.pods)
        assert row["pod_counts"] == dict(expected_pods)
        assert row["node_count"] == len(summary.nodes)
        assert row["ready_node_count"] == sum(1 for s in summary.nodes.values()
                                              if s in ("Ready", "MemoryPressure", "DiskPressure",
                                                       "PIDPressure", "Unschedulable"))
        assert row["kubernetes_version"] == "v1.30.2"
        assert row["endpoint"] == fleet[name].url
        namespaces = {n["name"]: n for n in app.inventory("namespaces", clusters=[name])}
        emulated = {n["metadata"]["name"] for n in fleet[name].list("v1", "namespaces")}
        assert set(namespaces) == emulated
        for ns in summary.namespaces:
            per_ns = Counter(summary.expected_status(n, p) for n, p in summary.pods if n == ns)
            assert namespaces[ns]["pod_counts"] == dict(per_ns)
        services = {(s["namespace"], s["name"]): s for s in app.inventory("services", clusters=[name])}
        assert set(services) == set(summary.services)
        for key, kind in summary.services.items():
            assert services[key]["type"] == ("ClusterIP" if kind == "Headless" else kind)
        nodes = {n["name"]: n for n in app.inventory("nodes", clusters=[name])}
        assert set(nodes) == set(summary.nodes)
        for node, state in summary.nodes.items():
            assert nodes[node]["ready"] is (state not in ("NotReady",))
            assert nodes[node]["memory_pressure"] is (state == "MemoryPressure")
            assert nodes[node]["unschedulable"] is (state == "Unschedulable")
            assert nodes[node]["zone"] and nodes[node]["instance_type"]


def test_twenty_unchanged_runs_change_nothing_but_last_seen(app, fleet, engine):
    app.sync_inventory(providers=fleet.providers())
    before = dump(engine)
    seen_before = dump(engine, drop=())["node"][0]["last_seen_at"]
    for _ in range(20):
        report = app.sync_inventory(providers=fleet.providers())
        assert report.status == "succeeded"
        for outcome in report.outcomes:
            for table, counts in outcome.counts.items():
                if isinstance(counts, dict) and "updated" in counts:
                    assert counts["inserted"] == counts["updated"] == counts["tombstoned"] == 0, (table, counts)
    assert dump(engine) == before
    assert dump(engine, drop=())["node"][0]["last_seen_at"] > seen_before


def test_changes_are_inserted_updated_tombstoned_and_user_columns_survive(app, fleet, engine):
    app.sync_inventory(providers=fleet.providers())
    with engine.begin() as conn:
        conn.execute(update(Cluster.__table__).where(Cluster.__table__.c.name == "east").values(
            owner="team-a", team="payments", notes="primary EU", tags=["prod", "eu"]))
    first_seen = {n["name"]: n["first_seen_at"] for n in app.inventory("nodes", clusters=["east"])}
    east = fleet["east"]
    east.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh", "labels": {"a": "b"}},
                 "status": {"phase": "Active"}})
    gone_service = next(iter(fleet.summaries["east"].services))
    east.delete("v1", "services", gone_service[1], namespace=gone_service[0])
    node = sorted(fleet.summaries["east"].nodes)[0]
    east.patch("v1", "nodes", node, {"metadata": {"labels": {"node.kubernetes.io/instance-type": "x9.huge"}}})

    report = app.sync_inventory(providers=fleet.providers())
    counts = next(o.counts for o in report.outcomes if o.cluster and o.cluster.endswith("/east"))
    assert counts["namespace"]["inserted"] == 1
    assert counts["service"]["tombstoned"] == 1
    assert counts["node"]["updated"] == 1
    assert "fresh" in {n["name"] for n in app.inventory("namespaces", clusters=["east"])}
    live = {(s["namespace"], s["name"]) for s in app.inventory("services", clusters=["east"])}
    assert gone_service not in live
    dead = [s for s in app.inventory("services", clusters=["east"], include_deleted=True)
            if (s["namespace"], s["name"]) == gone_service]
    assert dead and dead[0]["deleted_at"] is not None
    nodes = {n["name"]: n for n in app.inventory("nodes", clusters=["east"])}
    assert nodes[node]["instance_type"] == "x9.huge"
    assert nodes[node]["first_seen_at"] == first_seen[node]
    east_row = app.inventory("clusters", clusters=["east"])[0]
    assert (east_row["owner"], east_row["team"], east_row["notes"], east_row["tags"]) == (
        "team-a", "payments", "primary EU", ["prod", "eu"])

    # it comes back: the tombstone is lifted, first_seen_at is kept
    east.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": gone_service[1],
                 "namespace": gone_service[0]}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}})
    app.sync_inventory(providers=fleet.providers())
    back = [s for s in app.inventory("services", clusters=["east"]) if (s["namespace"], s["name"]) == gone_service]
    assert back and back[0]["deleted_at"] is None and back[0]["first_seen_at"] == dead[0]["first_seen_at"]


def test_vanished_cluster_is_tombstoned_and_purged_after_retention(app, fleet, engine, tmp_path):
    app.sync_inventory(providers=fleet.providers())
    fleet.fleet.remove("west")
    path = fleet.fleet.write_kubeconfig(tmp_path / "only-east")
    from nautilus_core.inventory.providers import KubeconfigProvider

    report = app.sync_inventory(providers={"kubeconfig": KubeconfigProvider(kubeconfig=str(path))})
    assert report.tombstoned_clusters == ["kubeconfig///west"]
    assert [c["name"] for c in app.inventory("clusters")] == ["east"]
    with engine.begin() as conn:
        conn.execute(update(Cluster.__table__).where(Cluster.__table__.c.name == "west").values(
            deleted_at=utcnow() - timedelta(days=31)))
    report = app.sync_inventory(providers={"kubeconfig": KubeconfigProvider(kubeconfig=str(path))})
    assert report.purged >= 1
    with engine.connect() as conn:
        names = [r.name for r in conn.execute(select(Cluster.__table__.c.name))]
        orphans = conn.execute(select(Node.__table__.c.id).join(
            Cluster.__table__, Cluster.__table__.c.id == Node.__table__.c.cluster_id, isouter=True
        ).where(Cluster.__table__.c.id.is_(None))).all()
    assert names == ["east"]
    assert orphans == []


def test_sync_run_is_recorded_per_provider_and_cluster(app, fleet, engine):
    report = app.sync_inventory(providers=fleet.providers())
    with engine.connect() as conn:
        run = conn.execute(select(SyncRun.__table__).where(SyncRun.__table__.c.id == report.run_id)).mappings().one()
        outcomes = conn.execute(select(SyncOutcome.__table__).where(
            SyncOutcome.__table__.c.run_id == report.run_id)).mappings().all()
    assert run["status"] == "succeeded" and run["finished_at"] >= run["started_at"]
    assert run["counts"]["namespace"]["inserted"] == sum(
        len(s.namespaces) + len(SYSTEM_NAMESPACES) for s in fleet.summaries.values())
    assert sorted((o["provider"], o["cluster_key"] or "", o["status"]) for o in outcomes) == [
        ("kubeconfig", "", "ok"), ("kubeconfig", "kubeconfig///east", "ok"),
        ("kubeconfig", "kubeconfig///west", "ok")]
    assert all(o["duration_s"] is not None for o in outcomes)
    assert app.sync_runs(1)[0]["id"] == report.run_id


def test_shards_split_the_fleet_and_only_tombstone_their_own(app, kube_fleet, tmp_path):
    from nautilus_core.inventory.pipeline import Shard
    from nautilus_core.inventory.providers import KubeconfigProvider

    names = [f"c{i}" for i in range(6)]
    fleet = kube_fleet(names)
    provider = KubeconfigProvider(kubeconfig=str(fleet.write_kubeconfig(tmp_path / "all")))
    synced = []
    for index in range(2):
        report = app.sync_inventory(providers={"kubeconfig": provider}, shard=f"{index}/2")
        synced.append({o.cluster for o in report.outcomes if o.cluster})
    assert synced[0] and synced[1] and synced[0].isdisjoint(synced[1])
    assert synced[0] | synced[1] == {f"kubeconfig///{n}" for n in names}
    assert all(Shard(i, 2).owns(key) for i in range(2) for key in synced[i])

    # every cluster vanishes: each shard tombstones only the ones it owns
    fleet_only = kube_fleet(["other"])
    empty = KubeconfigProvider(kubeconfig=str(fleet_only.write_kubeconfig(tmp_path / "other")))
    report = app.sync_inventory(providers={"kubeconfig": empty}, shard="0/2")
    assert set(report.tombstoned_clusters) == synced[0]
    live = {c["key"] for c in app.inventory("clusters")}
    assert synced[1] <= live and not (synced[0] & live)
