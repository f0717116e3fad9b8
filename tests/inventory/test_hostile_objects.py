"""Hostile API answers: objects with wrong types, NUL bytes and 9,000-character names. Each bad
object is counted (named) and skipped or cleaned; it never hides its namespace, never fails the
cluster, and gives the same rows on SQLite and PostgreSQL."""

from __future__ import annotations

import yaml

from nautilus_core.inventory.providers import KubeconfigProvider

LONG = "x" * 9000


def pod(namespace, name, status):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": "x"}]}, "status": status}


RUNNING = {"phase": "Running", "containerStatuses": [{"name": "c", "ready": True, "restartCount": 0,
                                                      "state": {"running": {}}}]}


def labels_of(app, cluster):
    [row] = app.inventory("clusters", clusters=[cluster])
    return {p["label"]: (p["count"], p.get("objects")) for p in row["problems"] if "label" in p}, row


def test_a_malformed_pod_is_counted_and_skipped_and_its_namespace_stays(app, fleet):
    west = fleet["west"]
    for ns in ("team-a", "odd"):
        west.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    west.create(pod("team-a", "good-1", RUNNING))
    west.create(pod("team-a", "good-2", RUNNING))
    assert app.sync_inventory(providers=fleet.providers()).status == "succeeded"

    west.create(pod("team-a", "reason-int", {"phase": "Failed", "reason": 5}))
    # every pod of "odd" is malformed, in different ways
    west.create(pod("odd", "reason-int", {"phase": "Failed", "reason": 7}))
    west.create(pod("odd", "statuses-text", {"phase": "Running", "containerStatuses": "oops"}))
    west.create(pod("odd", "restarts-text", {"phase": "Running", "containerStatuses": [
        {"name": "c", "restartCount": "three", "state": {"running": {}}}]}))
    report = app.sync_inventory(providers=fleet.providers())
    assert report.status == "succeeded", report.summary()

    namespaces = {n["name"]: n for n in app.inventory("namespaces", clusters=["west"])}
    assert namespaces["team-a"]["pod_counts"] == {"Running": 2}
    assert "odd" in namespaces and namespaces["odd"]["pod_counts"] == {}
    labels, _ = labels_of(app, "west")
    assert labels["pod:malformed-status.reason"] == (2, ["odd/reason-int", "team-a/reason-int"])
    assert labels["pod:malformed-status.containerStatuses"] == (1, ["odd/statuses-text"])
    assert labels["pod:malformed-status.containerStatuses.restartCount"] == (1, ["odd/restarts-text"])


def test_nul_bytes_and_huge_names_are_rejected_or_cleaned_alike_on_both_backends(app, fleet):
    west = fleet["west"]
    assert app.sync_inventory(providers=fleet.providers()).status == "succeeded"
    before = {n["name"] for n in app.inventory("namespaces", clusters=["west"])}

    west.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "nul\x00byte"}})
    west.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": LONG}})
    west.create({"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": "labelled", "labels": {"team": "a\x00b", "long": LONG, "k\x00": "v"}}})
    west.create(pod("nul\x00byte", "p", RUNNING))
    west.create(pod("labelled", "p", {"phase": "Running", "reason": "Odd\x00Reason"}))
    west.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": LONG}})
    west.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc\x00", "namespace": "labelled"},
                 "spec": {"type": "ClusterIP", "ports": [{"name": "p\x00", "port": 80}]}})
    west.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "labelled"},
                 "spec": {"type": "Cluster\x00IP", "ports": [{"name": "h\x00", "port": 80, "targetPort": "x"}]}})

    report = app.sync_inventory(providers=fleet.providers())
    assert report.status == "succeeded", report.summary()
    namespaces = {n["name"]: n for n in app.inventory("namespaces", clusters=["west"])}
    assert set(namespaces) == before | {"labelled"}
    assert namespaces["labelled"]["labels"] == {"team": "a\ufffdb", "long": LONG, "k\ufffd": "v",
                                                "kubernetes.io/metadata.name": "labelled"}
    assert namespaces["labelled"]["pod_counts"] == {}
    services = {s["name"]: s for s in app.inventory("services", clusters=["west"]) if s["namespace"] == "labelled"}
    assert set(services) == {"web"}
    assert services["web"]["type"] == "Cluster\ufffdIP" and services["web"]["ports"] == [
        {"name": "h\ufffd", "port": 80, "targetPort": "x"}]
    assert LONG not in {n["name"] for n in app.inventory("nodes", clusters=["west"])}

    labels, _ = labels_of(app, "west")
    assert labels["namespace:invalid-metadata.name"][0] == 2
    assert "nul\\x00byte" in labels["namespace:invalid-metadata.name"][1]
    assert labels["node:invalid-metadata.name"] == (1, ["x" * 80 + "...(9000 chars)"])
    assert labels["service:invalid-metadata.name"] == (1, ["svc\\x00"])
    assert labels["pod:invalid-metadata.namespace"] == (1, ["nul\\x00byte"])
    assert labels["pod:malformed-status.reason"] == (1, ["labelled/p"])
    assert labels["namespace:malformed-metadata.labels"] == (1, ["labelled"])


def test_a_cluster_whose_name_cannot_be_stored_fails_alone(app, fleet, tmp_path):
    config = yaml.safe_load(fleet.kubeconfig.read_text())
    twin = dict(config["contexts"][0], name=LONG)
    config["contexts"].append(twin)
    path = tmp_path / "with-long-context"
    path.write_text(yaml.safe_dump(config))
    report = app.sync_inventory(providers={"kubeconfig": KubeconfigProvider(str(path))})
    assert report.status == "partial"
    [failure] = report.failures
    assert "name longer than 253 characters" in failure.error and len(failure.cluster) < 400
    assert {c["name"] for c in app.inventory("clusters")} == {"east", "west"}
    [run] = app.sync_runs(1)
    assert "name longer than 253" in run["error"]
