"""kubectl conformance: ``kubectl get`` prints what it prints against a real cluster (server-side Tables)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from emu_helpers import deployment_body
from kubectl_helpers import Kubectl

from nautilus_core.testing import KubeEmulator


def rows(output: str) -> list[dict[str, str]]:
    """kubectl's table output as dicts by header (cells sit under their header; empty cells stay "")."""
    lines = [line for line in output.splitlines() if line.strip()]
    names = re.split(r"\s{2,}", lines[0].strip())
    starts: list[int] = []
    for name in names:
        starts.append(lines[0].index(name, starts[-1] + 1 if starts else 0))
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    return [{n: line[a:b].strip() for n, (a, b) in zip(names, bounds, strict=True)} for line in lines[1:]]


def ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(name: str, status: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": labels or {},
            "creationTimestamp": ago(20),
        },
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "example/app:1"}]},
        "status": status,
    }


RUNNING = {
    "phase": "Running",
    "podIP": "10.0.0.7",
    "conditions": [{"type": "Ready", "status": "True"}],
    "containerStatuses": [
        {
            "name": "app",
            "ready": True,
            "restartCount": 0,
            "image": "x",
            "imageID": "",
            "state": {"running": {}},
        }
    ],
}


def crashing() -> dict[str, Any]:
    """Built when the test runs: its last restart is 30 minutes before *now*, not before collection."""
    return {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "app",
                "ready": False,
                "restartCount": 5,
                "image": "x",
                "imageID": "",
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(30)}},
            }
        ],
    }


def test_get_pods_prints_ready_status_restarts_age(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    kube_emulator.create(pod("web", RUNNING, {"app": "web"}))
    kube_emulator.create(pod("worker", crashing(), {"app": "worker"}))
    kube_emulator.create(pod("queued", {"phase": "Pending"}))

    printed = kubectl.out("get", "pods")
    assert printed.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    table = {row["NAME"]: row for row in rows(printed)}
    assert table["web"] == {
        "NAME": "web",
        "READY": "1/1",
        "STATUS": "Running",
        "RESTARTS": "0",
        "AGE": table["web"]["AGE"],
    }
    assert re.fullmatch(r"2\dm", table["web"]["AGE"])  # 20 minutes old (the clock may move on meanwhile)
    assert table["worker"]["STATUS"] == "CrashLoopBackOff"
    assert table["worker"]["READY"] == "0/1"
    assert re.fullmatch(r"5 \(3\dm ago\)", table["worker"]["RESTARTS"])  # 5 restarts, the last 30 minutes ago
    assert table["queued"]["STATUS"] == "Pending"

    wide = rows(kubectl.out("get", "pods", "-o", "wide"))
    assert {row["NAME"]: (row["IP"], row["NODE"]) for row in wide}["web"] == ("10.0.0.7", "node-1")


def test_get_selectors_and_output_formats(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    kube_emulator.create(pod("web", RUNNING, {"app": "web"}))
    kube_emulator.create(pod("queued", {"phase": "Pending"}, {"app": "batch"}))

    assert [row["NAME"] for row in rows(kubectl.out("get", "pods", "-l", "app=web"))] == ["web"]
    assert [
        row["NAME"] for row in rows(kubectl.out("get", "pods", "--field-selector", "status.phase=Pending"))
    ] == ["queued"]
    listed = kubectl.json("get", "pods", "-l", "app in (web,batch)")
    assert listed["kind"] == "List" and len(listed["items"]) == 2
    one = yaml.safe_load(kubectl.out("get", "pod", "web", "-o", "yaml"))
    assert one["status"]["podIP"] == "10.0.0.7"
    assert kubectl.out("get", "pods", "-o", "name").split() == ["pod/queued", "pod/web"]
    missing = kubectl.run("get", "pod", "nope", check=False)
    assert missing.returncode == 1
    assert 'pods "nope" not found' in missing.stderr


def test_get_workloads_services_nodes_namespaces(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    deployment = deployment_body("web", replicas=3)
    deployment["status"] = {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    kube_emulator.create({**deployment, "metadata": {**deployment["metadata"], "namespace": "default"}})
    kube_emulator.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.96.0.10",
                "selector": {"app": "web"},
                "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}],
            },
        }
    )
    kube_emulator.create(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "node-1", "labels": {"node-role.kubernetes.io/worker": ""}},
            "spec": {"unschedulable": True},
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "nodeInfo": {"kubeletVersion": "v1.30.2"},
            },
        }
    )

    [dep] = rows(kubectl.out("get", "deployments"))
    assert dep == {"NAME": "web", "READY": "2/3", "UP-TO-DATE": "3", "AVAILABLE": "2", "AGE": dep["AGE"]}
    [svc] = rows(kubectl.out("get", "services"))
    assert (svc["TYPE"], svc["CLUSTER-IP"], svc["EXTERNAL-IP"], svc["PORT(S)"]) == (
        "NodePort",
        "10.96.0.10",
        "<none>",
        "80:30080/TCP",
    )
    [node] = rows(kubectl.out("get", "nodes"))
    assert (node["STATUS"], node["ROLES"], node["VERSION"]) == (
        "Ready,SchedulingDisabled",
        "worker",
        "v1.30.2",
    )
    namespaces = rows(kubectl.out("get", "namespaces"))
    assert [(row["NAME"], row["STATUS"]) for row in namespaces] == [  # the namespaces every cluster starts with
        ("default", "Active"),
        ("kube-node-lease", "Active"),
        ("kube-public", "Active"),
        ("kube-system", "Active"),
    ]
    everything = kubectl.out("get", "all")
    assert "deployment.apps/web" in everything and "service/web" in everything


def test_get_statefulsets_and_default_name_age_table(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    sts = deployment_body("db", replicas=2)
    kube_emulator.create(
        {**sts, "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "default"}, "status": {}}
    )
    kube_emulator.add_resource("example.com", "v1", "gizmos", "Gizmo")
    kube_emulator.create(
        {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g", "namespace": "default"}}
    )
    assert rows(kubectl.out("get", "statefulsets"))[0]["READY"] == "0/2"
    printed = kubectl.out("get", "gizmos")
    assert printed.splitlines()[0].split() == ["NAME", "AGE"]


def test_get_watch_prints_changes_until_the_request_times_out(
    kube_emulator: KubeEmulator, kubectl: Kubectl
) -> None:
    watching = kubectl.popen("get", "configmaps", "-w", "--output-watch-events", request_timeout="4s")
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            record.query.get("watch") for record in kube_emulator.requests.filter("GET", "/configmaps")
        ):
            time.sleep(0.05)
        kubectl.out("create", "configmap", "live", "--from-literal=a=1")
        kubectl.out("label", "configmap", "live", "x=y")
        kubectl.out("delete", "configmap", "live")
        output, _ = watching.communicate(timeout=20)  # ends when --request-timeout cuts the watch
    finally:
        watching.kill()
    events = [(row["EVENT"], row["NAME"]) for row in rows(output)]
    assert events == [("ADDED", "live"), ("MODIFIED", "live"), ("DELETED", "live")]


def test_get_access_control_leases_and_events(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    kubectl.out("create", "namespace", "nautilus")
    kubectl.out("apply", "-f", str(Path(__file__).resolve().parents[2] / "deploy/controller/rbac.yaml"))
    [binding] = rows(kubectl.out("get", "rolebindings", "-n", "nautilus", "-o", "wide"))
    assert binding["ROLE"] == "Role/nautilus-controller-lease"
    assert binding["SERVICEACCOUNTS"] == "nautilus/nautilus-controller"
    [account] = rows(kubectl.out("get", "serviceaccounts", "-n", "nautilus"))
    assert account["SECRETS"] == "0"
    assert kubectl.out("get", "roles", "-n", "nautilus").splitlines()[0].split() == ["NAME", "CREATED", "AT"]
    kube_emulator.create(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "nautilus-controller", "namespace": "nautilus"},
            "spec": {"holderIdentity": "pod-a"},
        }
    )
    assert rows(kubectl.out("get", "leases", "-n", "nautilus"))[0]["HOLDER"] == "pod-a"
    kube_emulator.create(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e1", "namespace": "nautilus"},
            "involvedObject": {"kind": "Pod", "name": "web"},
            "type": "Warning",
            "reason": "BackOff",
            "message": "Back-off restarting failed container",
            "lastTimestamp": ago(40),
        }
    )
    [event] = rows(kubectl.out("get", "events", "-n", "nautilus"))
    assert (event["TYPE"], event["REASON"], event["OBJECT"]) == ("Warning", "BackOff", "pod/web")
