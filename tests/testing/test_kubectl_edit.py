"""kubectl conformance: patch (strategic, merge, json), label, annotate, scale."""

from __future__ import annotations

import json

from emu_helpers import deployment_body
from kubectl_helpers import Kubectl

from nautilus_core.testing import KubeEmulator


def two_containers(kube_emulator: KubeEmulator) -> None:
    body = deployment_body("web", replicas=2)
    body["metadata"]["namespace"] = "default"
    body["spec"]["template"]["spec"]["containers"] = [
        {"name": "app", "image": "example/app:1", "ports": [{"containerPort": 80}, {"containerPort": 9090}]},
        {"name": "sidecar", "image": "example/sidecar:1"},
    ]
    kube_emulator.create(body)


def containers(kube_emulator: KubeEmulator) -> dict[str, dict]:
    stored = kube_emulator.get("apps/v1", "Deployment", "web", "default")
    assert stored is not None
    return {c["name"]: c for c in stored["spec"]["template"]["spec"]["containers"]}


def test_strategic_patch_merges_containers_by_name(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    two_containers(kube_emulator)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "example/app:2"}]}}}}
    assert "deployment.apps/web patched" in kubectl.out("patch", "deployment", "web", "-p", json.dumps(patch))
    found = containers(kube_emulator)
    assert sorted(found) == ["app", "sidecar"]
    assert found["app"]["image"] == "example/app:2"
    assert [p["containerPort"] for p in found["app"]["ports"]] == [80, 9090]

    delete = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    kubectl.out("patch", "deployment", "web", "-p", json.dumps(delete))
    assert sorted(containers(kube_emulator)) == ["app"]

    replace = {
        "spec": {"template": {"spec": {"$patch": "replace", "containers": [{"name": "only", "image": "x"}]}}}
    }
    kubectl.out("patch", "deployment", "web", "-p", json.dumps(replace))
    assert sorted(containers(kube_emulator)) == ["only"]


def test_merge_and_json_patches(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    two_containers(kube_emulator)
    merge = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "example/app:3"}]}}}}
    kubectl.out("patch", "deployment", "web", "--type=merge", "-p", json.dumps(merge))
    assert sorted(containers(kube_emulator)) == ["app"]  # a merge patch replaces lists

    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 7},
        {"op": "add", "path": "/metadata/labels/x", "value": "y"},
    ]
    kubectl.out("patch", "deployment", "web", "--type=json", "-p", json.dumps(ops))
    stored = kube_emulator.get("apps/v1", "Deployment", "web", "default")
    assert stored is not None
    assert stored["spec"]["replicas"] == 7 and stored["metadata"]["labels"]["x"] == "y"

    failing = kubectl.run(
        "patch",
        "deployment",
        "web",
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/spec/nope"}]',
        check=False,
    )
    assert failing.returncode == 1 and "nonexistent" in failing.stderr


def test_label_annotate_and_scale(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    two_containers(kube_emulator)
    assert "deployment.apps/web labeled" in kubectl.out("label", "deployment", "web", "tier=front")
    refused = kubectl.run("label", "deployment", "web", "tier=back", check=False)
    assert refused.returncode == 1 and "already has a value" in refused.stderr
    kubectl.out("label", "deployment", "web", "tier=back", "--overwrite")
    kubectl.out("annotate", "deployment", "web", "owner=team-a")
    kubectl.out("annotate", "deployment", "web", "owner-")
    assert "deployment.apps/web scaled" in kubectl.out("scale", "deployment", "web", "--replicas=5")
    stale = kubectl.run("scale", "deployment", "web", "--replicas=1", "--current-replicas=2", check=False)
    assert stale.returncode == 1

    stored = kube_emulator.get("apps/v1", "Deployment", "web", "default")
    assert stored is not None
    assert stored["metadata"]["labels"]["tier"] == "back"
    assert "owner" not in (stored["metadata"].get("annotations") or {})
    assert stored["spec"]["replicas"] == 5
    assert [row.split()[0] for row in kubectl.out("get", "deploy", "-l", "tier=back").splitlines()] == [
        "NAME",
        "web",
    ]
