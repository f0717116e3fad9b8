"""Strategic merge patch by the real patch-merge keys, through the real client (and kubectl apply's directives)."""

from __future__ import annotations

from typing import Any

import pytest
from emu_helpers import http
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes import client

from nautilus_core.testing import KubeEmulator

SMP = "application/strategic-merge-patch+json"


def pod(**spec: Any) -> dict[str, Any]:
    base = {
        "containers": [
            {
                "name": "app",
                "image": "example/app:1",
                "args": ["--a", "--b"],
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                "ports": [{"containerPort": 80}, {"containerPort": 9090}],
                "volumeMounts": [
                    {"name": "data", "mountPath": "/data"},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
            },
            {"name": "proxy", "image": "example/proxy:1"},
        ],
        "volumes": [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
        "tolerations": [{"key": "a", "operator": "Exists"}],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "finalizers": ["x/a", "x/b"]},
        "spec": {**base, **spec},
    }


@pytest.fixture
def web(core: client.CoreV1Api) -> client.V1Pod:
    return core.create_namespaced_pod("default", pod())


def patch(core: client.CoreV1Api, body: Any) -> dict[str, Any]:
    return core.api_client.sanitize_for_serialization(
        core.patch_namespaced_pod("web", "default", body, _content_type=SMP)
    )


def test_lists_merge_by_their_keys(web: client.V1Pod, core: client.CoreV1Api) -> None:
    patched = patch(
        core,
        {
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
                        "ports": [{"containerPort": 9090, "name": "metrics"}],
                        "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": True}],
                        "args": ["--c"],
                    }
                ],
                "tolerations": [{"key": "b", "operator": "Exists"}],
            }
        },
    )
    app, proxy = patched["spec"]["containers"]
    assert (app["name"], app["image"], proxy["name"]) == ("app", "example/app:1", "proxy")
    assert app["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "two"},
        {"name": "C", "value": "3"},
    ]
    assert app["ports"] == [{"containerPort": 80}, {"containerPort": 9090, "name": "metrics"}]
    assert app["volumeMounts"][0] == {"name": "data", "mountPath": "/data", "readOnly": True}
    assert app["args"] == ["--c"]  # args are replaced
    assert patched["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]  # atomic


def test_directives(web: client.V1Pod, core: client.CoreV1Api) -> None:
    patched = patch(
        core,
        {
            "metadata": {"$deleteFromPrimitiveList/finalizers": ["x/a"]},
            "spec": {
                "containers": [{"name": "proxy", "$patch": "delete"}],
                "volumes": [{"name": "tmp", "$patch": "delete"}],
                "$setElementOrder/containers": [{"name": "app"}],
            },
        },
    )
    assert [c["name"] for c in patched["spec"]["containers"]] == ["app"]
    assert [v["name"] for v in patched["spec"]["volumes"]] == ["data"]
    assert patched["metadata"]["finalizers"] == ["x/b"]

    merged = patch(core, {"metadata": {"finalizers": ["x/c"]}})  # a set: merged, not replaced
    assert merged["metadata"]["finalizers"] == ["x/b", "x/c"]
    replaced = patch(core, {"spec": {"volumes": [{"$patch": "replace"}, {"name": "only", "emptyDir": {}}]}})
    assert replaced["spec"]["volumes"] == [{"name": "only", "emptyDir": {}}]


def test_retain_keys_clears_the_other_member_of_a_union(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment(
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": "x"}]},
                },
            },
        },
    )
    patched = apps.patch_namespaced_deployment(
        "web",
        "default",
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
        _content_type=SMP,
    )
    assert patched.spec.strategy.type == "Recreate"
    assert patched.spec.strategy.rolling_update is None


def test_service_ports_by_port_and_conditions_by_type(
    kube_emulator: KubeEmulator, core: client.CoreV1Api, web: client.V1Pod
) -> None:
    core.create_namespaced_service(
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]},
        },
    )
    service = core.patch_namespaced_service(
        "web", "default", {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}}, _content_type=SMP
    )
    assert [(p.port, p.name, p.target_port) for p in service.spec.ports] == [
        (80, "http", None),
        (443, "https", 8443),
    ]

    kube_emulator.patch(
        "v1",
        "Pod",
        "web",
        {
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "False"},
                    {"type": "Initialized", "status": "True"},
                ]
            }
        },
        namespace="default",
    )
    status = core.patch_namespaced_pod_status(
        "web", "default", {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}, _content_type=SMP
    )
    assert [(c.type, c.status) for c in status.status.conditions] == [
        ("Ready", "True"),
        ("Initialized", "True"),
    ]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from(
    [
        "containers",
        "volumes",
        "env",
        "ports",
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "name",
        "$deleteFromPrimitiveList/finalizers",
        "finalizers",
        "image",
    ]
)
PATCH = st.recursive(
    JSON, lambda inner: st.dictionaries(KEYS, inner, max_size=3) | st.lists(inner, max_size=3), max_leaves=10
)


def test_hostile_patches_answer_errors_not_crashes() -> None:
    """Any patch body of any type: 2xx or a 4xx Status, never a 500; the store keeps serving."""
    with KubeEmulator() as emu:
        emu.create({**pod(), "metadata": {**pod()["metadata"], "namespace": "default"}})
        url = "/api/v1/namespaces/default/pods/web"

        @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            body=st.dictionaries(st.sampled_from(["spec", "metadata", "status"]), PATCH, max_size=2) | PATCH,
            kind=st.sampled_from(
                [
                    SMP,
                    "application/merge-patch+json",
                    "application/json-patch+json",
                    "application/apply-patch+yaml",
                ]
            ),
            force=st.booleans(),
        )
        def send(body: Any, kind: str, force: bool) -> None:
            query = f"?fieldManager=fuzz&force={str(force).lower()}" if "apply" in kind else ""
            code, answer, _ = http(emu.url, "PATCH", url + query, body, kind)
            assert code < 500, answer

        send()
        assert emu.handler.failures == []
        assert http(emu.url, "GET", "/api/v1/namespaces/default/pods")[0] == 200
