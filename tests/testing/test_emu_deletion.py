"""Deletion as a real cluster settles it: garbage collection by ownerReferences (background, foreground,
orphan), finalizers, graceful pod deletion, and DELETE answers the typed clients deserialize."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from emu_helpers import deployment_body, pod_body
from kubernetes import client, watch
from kubernetes.client import ApiException

from nautilus_core.testing import KubeEmulator

KUBECTL = "/usr/bin/kubectl"


def owned_by(owner: Any, kind: str, block: bool = False) -> dict[str, Any]:
    ref = {"apiVersion": "apps/v1", "kind": kind, "name": owner.metadata.name, "uid": owner.metadata.uid}
    if block:
        ref["blockOwnerDeletion"] = True
    return ref


def chain(core: client.CoreV1Api, apps: client.AppsV1Api, block: bool = False) -> None:
    """Deployment web -> ReplicaSet web-1 -> pods web-1-a, web-1-b (ownerReferences as controllers set them)."""
    deployment = apps.create_namespaced_deployment("default", deployment_body("web"))
    rs_body = {**deployment_body("web-1"), "kind": "ReplicaSet"}
    rs_body["spec"]["selector"] = {"matchLabels": {"app": "web"}}
    rs_body["spec"]["template"]["metadata"]["labels"] = {"app": "web"}
    rs_body["metadata"]["ownerReferences"] = [owned_by(deployment, "Deployment", block)]
    replica_set = apps.create_namespaced_replica_set("default", rs_body)
    for suffix in ("a", "b"):
        pod = pod_body(f"web-1-{suffix}", labels={"app": "web"})
        pod["metadata"]["ownerReferences"] = [owned_by(replica_set, "ReplicaSet", block)]
        core.create_namespaced_pod("default", pod)


def names(core: client.CoreV1Api, apps: client.AppsV1Api) -> tuple[list[str], list[str], list[str]]:
    return (
        [d.metadata.name for d in apps.list_namespaced_deployment("default").items],
        [r.metadata.name for r in apps.list_namespaced_replica_set("default").items],
        [p.metadata.name for p in core.list_namespaced_pod("default").items],
    )


def test_background_deletion_collects_the_whole_chain(core: client.CoreV1Api, apps: client.AppsV1Api) -> None:
    chain(core, apps)
    apps.delete_namespaced_deployment("web", "default")
    assert names(core, apps) == ([], [], [])


def test_a_dependent_with_another_live_owner_only_loses_the_reference(
    core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    first = core.create_namespaced_config_map("default", {"metadata": {"name": "first"}})
    second = core.create_namespaced_config_map("default", {"metadata": {"name": "second"}})
    refs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": cm.metadata.name, "uid": cm.metadata.uid}
        for cm in (first, second)
    ]
    core.create_namespaced_config_map("default", {"metadata": {"name": "shared", "ownerReferences": refs}})
    core.delete_namespaced_config_map("first", "default")
    shared = core.read_namespaced_config_map("shared", "default")
    assert [ref.name for ref in shared.metadata.owner_references] == ["second"]
    core.delete_namespaced_config_map("second", "default")
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("shared", "default")
    assert caught.value.status == 404


def test_foreground_deletion_waits_for_blocking_dependents(core: client.CoreV1Api, apps: client.AppsV1Api) -> None:
    chain(core, apps, block=True)
    core.patch_namespaced_pod("web-1-a", "default", {"metadata": {"finalizers": ["example.com/drain"]}})
    answer = apps.delete_namespaced_deployment("web", "default", propagation_policy="Foreground")
    assert answer["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert answer["metadata"]["deletionTimestamp"]
    # the pod with a finalizer holds its ReplicaSet, which holds the Deployment
    assert names(core, apps) == (["web"], ["web-1"], ["web-1-a"])
    assert apps.read_namespaced_replica_set("web-1", "default").metadata.finalizers == ["foregroundDeletion"]
    assert core.read_namespaced_pod("web-1-a", "default").metadata.deletion_timestamp is not None
    core.patch_namespaced_pod("web-1-a", "default", {"metadata": {"finalizers": None}})
    assert names(core, apps) == ([], [], [])


def test_orphan_deletion_keeps_dependents_without_the_reference(core: client.CoreV1Api, apps: client.AppsV1Api) -> None:
    chain(core, apps)
    apps.delete_namespaced_replica_set("web-1", "default", propagation_policy="Orphan")
    assert names(core, apps) == (["web"], [], ["web-1-a", "web-1-b"])
    assert all(p.metadata.owner_references is None for p in core.list_namespaced_pod("default").items)


def test_a_job_orphans_its_pods_unless_told_otherwise(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    batch = client.BatchV1Api(core.api_client)
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "run", "image": "busybox:1"}]}}
    for name in ("kept", "gone"):
        job = batch.create_namespaced_job("default", {"metadata": {"name": name}, "spec": {"template": template}})
        pod = pod_body(f"{name}-pod")
        pod["metadata"]["ownerReferences"] = [
            {"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": job.metadata.uid}
        ]
        core.create_namespaced_pod("default", pod)
    batch.delete_namespaced_job("kept", "default")  # batch/v1 defaults to orphaning, as kubectl knows
    batch.delete_namespaced_job("gone", "default", propagation_policy="Background")
    assert [p.metadata.name for p in core.list_namespaced_pod("default").items] == ["kept-pod"]


def test_a_bound_pod_passes_through_terminating(core: client.CoreV1Api) -> None:
    bound = {**pod_body("web"), "spec": {**pod_body("web")["spec"], "nodeName": "node-1"}}
    core.create_namespaced_pod("default", bound)
    core.create_namespaced_pod("default", pod_body("pending"))
    start = core.list_namespaced_pod("default").metadata.resource_version
    seen: list[tuple[str, str, Any]] = []

    def follow() -> None:
        w = watch.Watch()
        for event in w.stream(core.list_namespaced_pod, "default", resource_version=start, timeout_seconds=5):
            meta = event["raw_object"]["metadata"]
            seen.append((event["type"], meta["name"], meta.get("deletionGracePeriodSeconds")))
            if len(seen) == 3:
                w.stop()

    follower = threading.Thread(target=follow)
    follower.start()
    answer = core.delete_namespaced_pod("web", "default")
    core.delete_namespaced_pod("pending", "default")
    follower.join(10)
    assert answer.metadata.deletion_timestamp is not None and answer.metadata.deletion_grace_period_seconds == 30
    assert seen == [("MODIFIED", "web", 30), ("DELETED", "web", 30), ("DELETED", "pending", None)]


def test_delete_answers_the_object_where_the_real_storage_does(core: client.CoreV1Api) -> None:
    service = {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}}}
    core.create_namespaced_service("default", service)
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim("default", claim)
    core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    deleted_service = core.delete_namespaced_service("web", "default")
    assert isinstance(deleted_service, client.V1Service) and deleted_service.metadata.name == "web"
    deleted_claim = core.delete_namespaced_persistent_volume_claim("data", "default")
    assert isinstance(deleted_claim, client.V1PersistentVolumeClaim) and deleted_claim.metadata.name == "data"
    status = core.delete_namespaced_config_map("cfg", "default")
    assert status["kind"] == "Status" and status["details"]["kind"] == "configmaps"


@pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed at /usr/bin/kubectl")
def test_kubectl_cascade_modes(kubeconfig_path: Path, core: client.CoreV1Api, apps: client.AppsV1Api) -> None:
    env = {"KUBECONFIG": str(kubeconfig_path), "PATH": "/usr/bin:/bin", "HOME": str(kubeconfig_path.parent)}

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60)

    chain(core, apps)
    done = kubectl("delete", "replicaset", "web-1", "--cascade=orphan", "--wait=true", "--timeout=20s")
    assert done.returncode == 0, done.stderr
    assert names(core, apps) == (["web"], [], ["web-1-a", "web-1-b"])
    deployment = apps.read_namespaced_deployment("web", "default")
    second = {**deployment_body("web-2"), "kind": "ReplicaSet"}
    second["metadata"]["ownerReferences"] = [owned_by(deployment, "Deployment", block=True)]
    apps.create_namespaced_replica_set("default", second)
    done = kubectl("delete", "deployment", "web", "--cascade=foreground", "--wait=true", "--timeout=20s")
    assert done.returncode == 0, done.stderr
    assert 'deployment.apps "web" deleted' in done.stdout
    assert names(core, apps) == ([], [], ["web-1-a", "web-1-b"])
    out = kubectl("get", "pod", "web-1-a", "-o", "json")
    assert json.loads(out.stdout)["metadata"]["name"] == "web-1-a"
