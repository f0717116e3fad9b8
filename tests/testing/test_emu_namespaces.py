"""Namespace lifecycle as a real API server runs it: system namespaces, 404 into a missing namespace,
Terminating while content remains, 403 for new content, and removal once empty."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest
from emu_helpers import pod_body
from kubernetes import client, watch
from kubernetes.client import ApiException

from nautilus_core.testing import SYSTEM_NAMESPACES, KubeEmulator

KUBECTL = "/usr/bin/kubectl"


def test_a_fresh_cluster_has_the_system_namespaces(core: client.CoreV1Api) -> None:
    names = [ns.metadata.name for ns in core.list_namespace().items]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"] == list(SYSTEM_NAMESPACES)
    assert core.create_namespaced_config_map("default", {"metadata": {"name": "ok"}}).metadata.namespace == "default"


def test_creating_into_a_missing_namespace_answers_404_naming_the_namespace(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod("ghost", pod_body("web"))
    assert caught.value.status == 404
    assert json.loads(caught.value.body) == {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "message": 'namespaces "ghost" not found',
        "reason": "NotFound",
        "code": 404,
        "details": {"name": "ghost", "kind": "namespaces"},
    }
    assert core.list_pod_for_all_namespaces().items == []


def test_a_namespace_terminates_while_content_with_finalizers_remains(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespaced_pod("doomed", pod_body("plain"))
    held = {"metadata": {"name": "held", "finalizers": ["example.com/cleanup"]}, "data": {"k": "v"}}
    core.create_namespaced_config_map("doomed", held)

    answer = core.delete_namespace("doomed")  # the client gives this one as a dict: the namespace, not a Status
    assert (answer["kind"], answer["status"]["phase"]) == ("Namespace", "Terminating")
    namespace = core.read_namespace("doomed")
    assert namespace.status.phase == "Terminating"
    assert namespace.metadata.deletion_timestamp is not None
    assert namespace.spec.finalizers == ["kubernetes"]
    assert core.list_namespaced_pod("doomed").items == []  # content without finalizers went at once
    assert core.read_namespaced_config_map("held", "doomed").metadata.deletion_timestamp is not None

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod("doomed", pod_body("late"))
    assert caught.value.status == 403
    body = json.loads(caught.value.body)
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'pods "late" is forbidden: unable to create new content in namespace doomed because it is being terminated'
    )
    assert body["details"]["causes"] == [
        {
            "reason": "NamespaceTerminating",
            "message": "unable to create new content in namespace doomed because it is being terminated",
            "field": "metadata.namespace",
        }
    ]

    core.patch_namespaced_config_map("held", "doomed", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as caught:
        core.read_namespace("doomed")
    assert caught.value.status == 404
    assert kube_emulator.objects(namespace="doomed") == []


def test_a_watch_sees_the_namespace_pass_through_terminating(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "brief"}})
    core.create_namespaced_pod("brief", pod_body("p"))
    start = core.list_namespace().metadata.resource_version
    seen: list[tuple[str, str]] = []

    def follow() -> None:
        w = watch.Watch()
        for event in w.stream(core.list_namespace, resource_version=start, timeout_seconds=5):
            seen.append((event["type"], event["raw_object"]["status"].get("phase", "")))
            if event["type"] == "DELETED":
                w.stop()

    watcher = threading.Thread(target=follow)
    watcher.start()
    core.delete_namespace("brief")
    watcher.join(10)
    assert seen == [("MODIFIED", "Terminating"), ("DELETED", "Terminating")]


@pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed at /usr/bin/kubectl")
def test_kubectl_delete_namespace_waits_until_it_is_gone(kubeconfig_path: Path, core: client.CoreV1Api) -> None:
    env = {"KUBECONFIG": str(kubeconfig_path), "PATH": "/usr/bin:/bin", "HOME": str(kubeconfig_path.parent)}

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60)

    assert kubectl("create", "namespace", "scratch").returncode == 0
    made = kubectl("create", "configmap", "settings", "-n", "scratch", "--from-literal=a=b")
    assert made.returncode == 0, made.stderr
    missing = kubectl("create", "configmap", "settings", "-n", "nowhere", "--from-literal=a=b")
    assert missing.returncode == 1
    assert 'namespaces "nowhere" not found' in missing.stderr
    gone = kubectl("delete", "namespace", "scratch", "--wait=true", "--timeout=20s")
    assert gone.returncode == 0, gone.stderr
    assert 'namespace "scratch" deleted' in gone.stdout
    assert "scratch" not in [ns.metadata.name for ns in core.list_namespace().items]


def test_a_spec_finalizer_holds_the_namespace_until_finalize_clears_it(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "stuck"}, "spec": {"finalizers": ["kubernetes", "example.com/vault"]}})
    core.delete_namespace("stuck")
    namespace = core.read_namespace("stuck")  # empty, but a finalizer of some other system remains
    assert (namespace.status.phase, namespace.spec.finalizers) == ("Terminating", ["example.com/vault"])
    namespace.spec.finalizers = []
    core.replace_namespace_finalize("stuck", namespace)
    with pytest.raises(ApiException) as caught:
        core.read_namespace("stuck")
    assert caught.value.status == 404
