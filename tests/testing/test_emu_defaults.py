"""Server defaults and canonical quantities: what a real server adds to a written object shows here too,
so a controller that diffs its desired spec against the live one meets the same differences."""

from __future__ import annotations

import ipaddress

import pytest
from emu_helpers import deployment_body
from kubernetes import client

from nautilus_core.testing.defaults import canonical_quantity


def test_service_defaults_and_a_kept_cluster_ip(core: client.CoreV1Api) -> None:
    body = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    service = core.create_namespaced_service("default", body)
    spec = service.spec
    assert (spec.type, spec.session_affinity, spec.ip_families, spec.ip_family_policy) == (
        "ClusterIP",
        "None",
        ["IPv4"],
        "SingleStack",
    )
    assert ipaddress.ip_address(spec.cluster_ip) in ipaddress.ip_network("10.96.0.0/12")
    assert spec.cluster_ips == [spec.cluster_ip]
    assert (spec.ports[0].protocol, spec.ports[0].target_port) == ("TCP", 80)
    replaced = core.replace_namespaced_service(
        "web",
        "default",
        {**body, "metadata": {"name": "web", "resourceVersion": service.metadata.resource_version}},
    )
    assert replaced.spec.cluster_ip == spec.cluster_ip  # a replace that omits it keeps the allocation
    node_port = core.create_namespaced_service(
        "default", {"metadata": {"name": "edge"}, "spec": {"type": "NodePort", "ports": [{"port": 443}]}}
    )
    assert 30000 <= node_port.spec.ports[0].node_port <= 32767
    assert node_port.spec.external_traffic_policy == "Cluster"


def test_workload_and_container_defaults(apps: client.AppsV1Api) -> None:
    body = deployment_body("web")
    body["spec"]["template"]["spec"]["containers"] = [
        {"name": "app", "image": "example/app:1.2"},
        {"name": "sidecar", "image": "example/sidecar"},
        {"name": "edge", "image": "example/edge:latest", "ports": [{"containerPort": 8080}]},
    ]
    spec = apps.create_namespaced_deployment("default", body).spec
    assert spec.strategy.type == "RollingUpdate"
    assert (spec.strategy.rolling_update.max_surge, spec.strategy.rolling_update.max_unavailable) == ("25%", "25%")
    assert (spec.revision_history_limit, spec.progress_deadline_seconds) == (10, 600)
    pod = spec.template.spec
    assert (pod.restart_policy, pod.dns_policy, pod.scheduler_name, pod.termination_grace_period_seconds) == (
        "Always",
        "ClusterFirst",
        "default-scheduler",
        30,
    )
    assert [c.image_pull_policy for c in pod.containers] == ["IfNotPresent", "Always", "Always"]
    assert {c.termination_message_path for c in pod.containers} == {"/dev/termination-log"}
    assert pod.containers[2].ports[0].protocol == "TCP"

    sts = apps.create_namespaced_stateful_set("default", {**deployment_body("db"), "kind": "StatefulSet"}).spec
    assert sts.pod_management_policy == "OrderedReady"
    assert (sts.update_strategy.type, sts.update_strategy.rolling_update.partition) == ("RollingUpdate", 0)
    assert sts.persistent_volume_claim_retention_policy.when_deleted == "Retain"


def test_quantities_are_stored_in_their_canonical_form(core: client.CoreV1Api) -> None:
    resources = {"requests": {"cpu": "0.5", "memory": "1024Mi"}, "limits": {"cpu": "1000m", "memory": "1.5Gi"}}
    pod = {
        "metadata": {"name": "sized"},
        "spec": {"containers": [{"name": "app", "image": "example/app:1", "resources": resources}]},
    }
    stored = core.create_namespaced_pod("default", pod).spec.containers[0].resources
    assert stored.requests == {"cpu": "500m", "memory": "1Gi"}
    assert stored.limits == {"cpu": "1", "memory": "1536Mi"}
    limits_only = {"limits": {"cpu": "2", "memory": "512Mi"}}
    pod = {
        "metadata": {"name": "guaranteed"},
        "spec": {"containers": [{"name": "app", "image": "example/app:1", "resources": limits_only}]},
    }
    created = core.create_namespaced_pod("default", pod)
    assert created.spec.containers[0].resources.requests == {"cpu": "2", "memory": "512Mi"}  # taken from limits
    assert created.status.qos_class == "Guaranteed"
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2048Mi"}}},
    }
    pvc = core.create_namespaced_persistent_volume_claim("default", claim)
    assert (pvc.spec.resources.requests, pvc.spec.volume_mode) == ({"storage": "2Gi"}, "Filesystem")


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("0.5", "500m"),
        ("1024Mi", "1Gi"),
        ("1000m", "1"),
        ("1.5Gi", "1536Mi"),
        ("12000", "12k"),
        ("1500", "1500"),
        ("100M", "100M"),
        ("1e3", "1e3"),
        ("512Ki", "512Ki"),
        ("0.0000000001", "1n"),
        (0.25, "250m"),
        (2, "2"),
    ],
)
def test_canonical_quantities_match_the_api_server(given: object, canonical: str) -> None:
    assert canonical_quantity(given) == canonical
