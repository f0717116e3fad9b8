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


def deployment() -> dict[str, Any]:
    """A Deployment whose pod template is ``pod()``: a pod's spec is immutable, a template's is not."""
    template = pod()
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": template["metadata"],
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": template["spec"]},
        },
    }


@pytest.fixture
def web(core: client.CoreV1Api) -> client.V1Pod:
    return core.create_namespaced_pod("default", pod())


@pytest.fixture
def web_deployment(apps: client.AppsV1Api) -> client.V1Deployment:
    return apps.create_namespaced_deployment("default", deployment())


def patch(apps: client.AppsV1Api, body: Any) -> dict[str, Any]:
    """Strategic-merge ``body`` into the Deployment; the answer, with ``template`` for its pod spec."""
    answer = apps.api_client.sanitize_for_serialization(
        apps.patch_namespaced_deployment("web", "default", body, _content_type=SMP)
    )
    answer["template"] = answer["spec"]["template"]["spec"]
    return answer


def template_patch(spec: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": spec}}}


def test_lists_merge_by_their_keys(web_deployment: client.V1Deployment, apps: client.AppsV1Api) -> None:
    patched = patch(
        apps,
        template_patch(
            {
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
        ),
    )
    app, proxy = patched["template"]["containers"]
    assert (app["name"], app["image"], proxy["name"]) == ("app", "example/app:1", "proxy")
    assert app["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "two"},
        {"name": "C", "value": "3"},
    ]
    assert app["ports"] == [  # protocol is the server's default
        {"containerPort": 80, "protocol": "TCP"},
        {"containerPort": 9090, "name": "metrics", "protocol": "TCP"},
    ]
    assert app["volumeMounts"][0] == {"name": "data", "mountPath": "/data", "readOnly": True}
    assert app["args"] == ["--c"]  # args are replaced
    assert patched["template"]["tolerations"] == [{"key": "b", "operator": "Exists"}]  # atomic


def test_directives(web_deployment: client.V1Deployment, apps: client.AppsV1Api) -> None:
    patched = patch(
        apps,
        {
            "metadata": {"$deleteFromPrimitiveList/finalizers": ["x/a"]},
            **template_patch(
                {
                    "containers": [{"name": "proxy", "$patch": "delete"}],
                    "volumes": [{"name": "tmp", "$patch": "delete"}],
                    "$setElementOrder/containers": [{"name": "app"}],
                }
            ),
        },
    )
    assert [c["name"] for c in patched["template"]["containers"]] == ["app"]
    assert [v["name"] for v in patched["template"]["volumes"]] == ["data"]
    assert patched["metadata"]["finalizers"] == ["x/b"]

    merged = patch(apps, {"metadata": {"finalizers": ["x/c"]}})  # a set: merged, not replaced
    assert merged["metadata"]["finalizers"] == ["x/b", "x/c"]
    replaced = patch(apps, template_patch({"volumes": [{"$patch": "replace"}, {"name": "only", "emptyDir": {}}]}))
    assert replaced["template"]["volumes"] == [{"name": "only", "emptyDir": {}}]


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
        (80, "http", 80),  # targetPort defaults to the port
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
