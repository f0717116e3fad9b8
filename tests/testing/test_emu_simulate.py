"""The simulated cluster (KWOK style, ``kube_cluster``): controllers make ReplicaSets, Pods and PVCs, pods
are scheduled and become Ready, Jobs complete, per-pod behaviours, and garbage collection on delete."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from emu_helpers import deployment_body
from kubernetes import client

from nautilus_core.testing import KubeEmulator
from nautilus_core.testing.simulate import BEHAVIOUR

KUBECTL = "/usr/bin/kubectl"


@pytest.fixture
def api(
    kube_cluster: KubeEmulator, tmp_path: Path, client_factory: Callable[..., client.ApiClient]
) -> Iterator[client.ApiClient]:
    yield client_factory(kube_cluster.write_kubeconfig(tmp_path / "kubeconfig"))
    assert kube_cluster.simulator is not None and kube_cluster.simulator.errors == []  # no simulator bug


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {check.__doc__ or check}")
        time.sleep(0.05)


def test_a_deployment_gets_ready_pods_and_garbage_collection_removes_them(
    kube_cluster: KubeEmulator, api: client.ApiClient
) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    apps.create_namespaced_deployment("default", deployment_body("web", replicas=3))

    def ready() -> bool:
        """three ready replicas"""
        status = apps.read_namespaced_deployment("web", "default").status
        return status is not None and status.ready_replicas == 3

    eventually(ready)
    deployment = apps.read_namespaced_deployment("web", "default")
    assert deployment.status.observed_generation == deployment.metadata.generation
    assert {c.type: c.status for c in deployment.status.conditions}["Available"] == "True"
    (replica_set,) = apps.list_namespaced_replica_set("default").items
    assert replica_set.metadata.owner_references[0].uid == deployment.metadata.uid
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert len(pods) == 3
    assert all(p.status.phase == "Running" and p.spec.node_name == "sim-node-0" for p in pods)
    assert all(p.metadata.owner_references[0].name == replica_set.metadata.name for p in pods)

    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 1}})
    eventually(lambda: len(core.list_namespaced_pod("default").items) == 1)

    apps.delete_namespaced_deployment("web", "default")
    assert apps.list_namespaced_replica_set("default").items == []
    pods = core.list_namespaced_pod("default").items  # collected, and terminating for a moment
    assert all(p.metadata.deletion_timestamp is not None for p in pods)
    eventually(lambda: core.list_namespaced_pod("default").items == [])
    assert kube_cluster.simulator is not None and kube_cluster.simulator.errors == []


def test_a_stateful_set_gets_ordinal_pods_and_their_claims(api: client.ApiClient) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    body = {**deployment_body("db", replicas=3), "kind": "StatefulSet"}
    body["spec"]["serviceName"] = "db"
    body["spec"]["volumeClaimTemplates"] = [
        {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }
    ]
    apps.create_namespaced_stateful_set("default", body)
    eventually(
        lambda: (
            (
                apps.read_namespaced_stateful_set("db", "default").status or client.V1StatefulSetStatus(replicas=0)
            ).ready_replicas
            == 3
        )
    )
    assert [p.metadata.name for p in core.list_namespaced_pod("default").items] == ["db-0", "db-1", "db-2"]
    claims = core.list_namespaced_persistent_volume_claim("default").items
    assert [(c.metadata.name, c.status.phase) for c in claims] == [
        ("data-db-0", "Bound"),
        ("data-db-1", "Bound"),
        ("data-db-2", "Bound"),
    ]
    apps.patch_namespaced_stateful_set("db", "default", {"spec": {"replicas": 1}})
    eventually(lambda: [p.metadata.name for p in core.list_namespaced_pod("default").items] == ["db-0"])
    assert len(core.list_namespaced_persistent_volume_claim("default").items) == 3  # claims are retained


def test_a_job_runs_its_pods_to_completion(api: client.ApiClient) -> None:
    batch = client.BatchV1Api(api)
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "run", "image": "busybox:1.36"}]}}
    batch.create_namespaced_job(
        "default", {"metadata": {"name": "once"}, "spec": {"completions": 2, "template": template}}
    )

    def complete() -> bool:
        """the Job is Complete"""
        status = batch.read_namespaced_job("once", "default").status or client.V1JobStatus()
        return any(c.type == "Complete" and c.status == "True" for c in status.conditions or [])

    eventually(complete)
    status = batch.read_namespaced_job("once", "default").status
    assert status.succeeded == 2 and status.active is None and status.completion_time is not None


def test_per_pod_behaviours(api: client.ApiClient) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    for name, behaviour in (("stuck", "pending"), ("flaky", "unready"), ("crashy", "crashloop")):
        body = deployment_body(name, replicas=1)
        body["spec"]["template"]["metadata"]["annotations"] = {BEHAVIOUR: behaviour}
        apps.create_namespaced_deployment("default", body)

    def settled() -> dict[str, Any]:
        """every pod has reached its simulated state"""
        pods = {p.metadata.labels["app"]: p for p in core.list_namespaced_pod("default").items}
        done = len(pods) == 3 and all(p.status.conditions for p in pods.values())
        done = done and all(p.status.phase == "Running" for n, p in pods.items() if n != "stuck")
        return pods if done else {}

    pods = eventually(settled)
    stuck = pods["stuck"]
    assert (stuck.status.phase, stuck.spec.node_name) == ("Pending", None)
    assert stuck.status.conditions[0].reason == "Unschedulable"
    flaky = pods["flaky"].status
    assert flaky.container_statuses[0].ready is False
    assert {c.type: c.status for c in flaky.conditions}["Ready"] == "False"
    crashy = pods["crashy"].status.container_statuses[0]
    assert crashy.state.waiting.reason == "CrashLoopBackOff" and crashy.restart_count == 5
    assert apps.read_namespaced_deployment("flaky", "default").status.ready_replicas is None


@pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed at /usr/bin/kubectl")
def test_kubectl_waits_for_a_simulated_rollout(kube_cluster: KubeEmulator, tmp_path: Path) -> None:
    env = {
        "KUBECONFIG": str(kube_cluster.write_kubeconfig(tmp_path / "kc")),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60)

    assert kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2").returncode == 0
    waited = kubectl("wait", "--for=condition=Available", "deployment/web", "--timeout=20s")
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout.strip() == "deployment.apps/web condition met"
    done = kubectl("delete", "deployment", "web", "--wait=true", "--timeout=20s")
    assert done.returncode == 0, done.stderr
    eventually(lambda: kubectl("get", "pods", "-o", "name").stdout.strip() == "")


def test_a_deleted_pod_stays_terminating_until_the_kubelet_removes_it(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(
        "default", {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}
    )
    eventually(lambda: core.read_namespaced_pod("web", "default").status.phase == "Running")
    answer = core.delete_namespaced_pod("web", "default")
    assert answer.metadata.deletion_timestamp is not None
    assert core.read_namespaced_pod("web", "default").metadata.deletion_grace_period_seconds == 30
    eventually(lambda: core.list_namespaced_pod("default").items == [])
