"""API discovery and /version, as the kubernetes client and its DynamicClient use them."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client
from kubernetes.dynamic import DynamicClient

from nautilus_core.testing import KubeEmulator


def test_version_is_configurable(tmp_path: Path, client_factory) -> None:
    with KubeEmulator(git_version="v1.29.7-eks-1234") as emu:
        info = client.VersionApi(client_factory(emu.write_kubeconfig(tmp_path / "kc"))).get_code()
    assert (info.git_version, info.major, info.minor) == ("v1.29.7-eks-1234", "1", "29")


def test_discovery_lists_builtin_groups_and_resources(
    core: client.CoreV1Api, api_client: client.ApiClient
) -> None:
    groups = {g.name: g for g in client.ApisApi(api_client).get_api_versions().groups}
    assert {"apps", "coordination.k8s.io"} <= set(groups)
    assert groups["apps"].preferred_version.group_version == "apps/v1"
    core_resources = {r.name: r for r in core.get_api_resources().resources}
    assert {
        "pods",
        "pods/log",
        "pods/status",
        "namespaces",
        "nodes",
        "services",
        "configmaps",
        "secrets",
        "events",
        "persistentvolumeclaims",
    } <= set(core_resources)
    assert (core_resources["pods"].kind, core_resources["pods"].namespaced) == ("Pod", True)
    assert core_resources["nodes"].namespaced is False
    apps_resources = {r.name: r for r in client.AppsV1Api(api_client).get_api_resources().resources}
    assert apps_resources["deployments/scale"].kind == "Scale"


def test_custom_resource_versions_prefer_the_stable_one(
    kube_emulator: KubeEmulator, api_client: client.ApiClient
) -> None:
    for version in ("v1beta3", "v1", "v1beta4"):
        kube_emulator.add_resource("oda.tmforum.org", version, "components", "Component")
    group = next(
        g for g in client.ApisApi(api_client).get_api_versions().groups if g.name == "oda.tmforum.org"
    )
    assert group.preferred_version.version == "v1"
    assert [v.version for v in group.versions] == ["v1", "v1beta4", "v1beta3"]


def test_dynamic_client_finds_builtin_and_custom_resources(
    kube_emulator: KubeEmulator, api_client: client.ApiClient, tmp_path: Path
) -> None:
    kube_emulator.add_resource("example.com", "v1alpha1", "widgets", "Widget", namespaced=False)
    kube_emulator.create({"apiVersion": "example.com/v1alpha1", "kind": "Widget", "metadata": {"name": "w"}})
    dynamic = DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json"))
    widgets = dynamic.resources.get(api_version="example.com/v1alpha1", kind="Widget")
    assert widgets.namespaced is False
    assert [w.metadata.name for w in widgets.get().items] == ["w"]
    deployments = dynamic.resources.get(api_version="apps/v1", kind="Deployment")
    created = deployments.create(
        namespace="default",
        body={
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        },
    )
    assert created.metadata.generation == 1
    assert deployments.get(namespace="default", name="d").spec.replicas == 1  # defaulted like a real server


def test_unknown_paths_are_404_status_and_health_is_ok(kube_emulator: KubeEmulator) -> None:
    import json
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(f"{kube_emulator.url}/healthz") as response:
        assert response.read() == b"ok"
    try:
        urllib.request.urlopen(f"{kube_emulator.url}/apis/nothing.example.com")
    except urllib.error.HTTPError as error:
        assert error.code == 404
        assert json.loads(error.read())["kind"] == "Status"
        error.close()
    else:  # pragma: no cover - the assertion is the point
        raise AssertionError("expected a 404")
