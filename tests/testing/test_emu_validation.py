"""Validation with the real server's answers: 422 Invalid with causes, 400 for bodies that do not decode,
status ignored on create, and a store that no malformed body can corrupt."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3
from emu_helpers import deployment_body, pod_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes import client
from kubernetes.client import ApiException

from nautilus_core.testing import KubeEmulator


def failure(call: Any, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    return caught.value.status, json.loads(caught.value.body)


def post(emu: KubeEmulator, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    answer = urllib3.PoolManager().request(
        "POST", emu.url + path, body=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    return answer.status, json.loads(answer.data)


def test_negative_replicas_answer_the_real_422_body(apps: client.AppsV1Api) -> None:
    body = deployment_body("web")
    body["spec"]["replicas"] = -1
    assert failure(apps.create_namespaced_deployment, "default", body) == (
        422,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "reason": "Invalid",
            "code": 422,
            "message": 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than '
            "or equal to 0",
            "details": {
                "name": "web",
                "group": "apps",
                "kind": "Deployment",
                "causes": [
                    {
                        "reason": "FieldValueInvalid",
                        "message": "Invalid value: -1: must be greater than or equal to 0",
                        "field": "spec.replicas",
                    }
                ],
            },
        },
    )
    assert apps.list_namespaced_deployment("default").items == []


@pytest.mark.parametrize(
    ("kind", "name", "rule"),
    [
        ("pod", "Web_1", "a lowercase RFC 1123 subdomain must consist of"),
        ("namespace", "team.a", "a lowercase RFC 1123 label must consist of"),
        ("service", "1st", "a DNS-1035 label must consist of"),
        ("pod", "x" * 254, "must be no more than 253 characters"),
    ],
)
def test_names_follow_the_rule_of_their_kind(core: client.CoreV1Api, kind: str, name: str, rule: str) -> None:
    meta = {"name": name}
    if kind == "pod":
        code, body = failure(core.create_namespaced_pod, "default", {**pod_body("x"), "metadata": meta})
    elif kind == "namespace":
        code, body = failure(core.create_namespace, {"metadata": meta})
    else:
        spec = {"ports": [{"port": 80}]}
        code, body = failure(core.create_namespaced_service, "default", {"metadata": meta, "spec": spec})
    assert code == 422
    cause = body["details"]["causes"][0]
    assert cause["field"] == "metadata.name" and cause["reason"] == "FieldValueInvalid"
    assert rule in cause["message"]
    assert body["message"].startswith(f'{kind.capitalize()} "{name}" is invalid: metadata.name: Invalid value: ')


def test_label_and_annotation_rules(core: client.CoreV1Api) -> None:
    bad = {"metadata": {"name": "cfg", "labels": {"bad key": "ok", "app": "v" * 64}}}
    code, body = failure(core.create_namespaced_config_map, "default", bad)
    assert code == 422
    causes = body["details"]["causes"]
    assert [(c["field"], c["message"].split(":")[1].strip()) for c in causes] == [
        ("metadata.labels", '"bad key"'),
        ("metadata.labels", '"' + "v" * 64 + '"'),
    ]
    assert "must be no more than 63 characters" in causes[1]["message"]
    assert body["message"].startswith('ConfigMap "cfg" is invalid: [metadata.labels: Invalid value: "bad key"')

    huge = {"metadata": {"name": "cfg", "annotations": {"note": "x" * (256 * 1024)}}}
    code, body = failure(core.create_namespaced_config_map, "default", huge)
    assert code == 422
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueTooLong",
            "message": "Too long: may not be more than 262144 bytes",
            "field": "metadata.annotations",
        }
    ]


def test_required_parts_of_workloads_pods_and_services(
    kube_emulator: KubeEmulator, core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    mismatched = deployment_body("web")
    mismatched["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    code, body = failure(apps.create_namespaced_deployment, "default", mismatched)
    assert code == 422
    assert body["message"] == (
        'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: '
        "`selector` does not match template `labels`"
    )

    no_selector = {**deployment_body("db"), "kind": "StatefulSet"}
    del no_selector["spec"]["selector"]  # the typed client refuses to send this; a raw request can
    del no_selector["spec"]["template"]["spec"]["containers"][0]["image"]
    code, body = post(kube_emulator, "/apis/apps/v1/namespaces/default/statefulsets", no_selector)
    assert code == 422
    assert [(c["reason"], c["field"]) for c in body["details"]["causes"]] == [
        ("FieldValueRequired", "spec.selector"),
        ("FieldValueRequired", "spec.template.spec.containers[0].image"),
    ]
    assert body["message"].startswith('StatefulSet.apps "db" is invalid: [spec.selector: Required value, ')

    _, body = post(kube_emulator, "/api/v1/namespaces/default/pods", {"metadata": {"name": "empty"}, "spec": {}})
    assert body["message"] == 'Pod "empty" is invalid: spec.containers: Required value'

    _, body = failure(core.create_namespaced_service, "default", {"metadata": {"name": "web"}, "spec": {}})
    assert body["message"] == 'Service "web" is invalid: spec.ports: Required value'
    headless = {"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "selector": {"app": "db"}}}
    assert core.create_namespaced_service("default", headless).spec.cluster_ip == "None"


def test_requests_may_not_exceed_limits(apps: client.AppsV1Api) -> None:
    body = deployment_body("web")
    body["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "2", "memory": "64Mi"},
        "limits": {"cpu": "1500m", "memory": "1Gi"},
    }
    code, status = failure(apps.create_namespaced_deployment, "default", body)
    assert code == 422
    assert status["message"] == (
        'Deployment.apps "web" is invalid: spec.template.spec.containers[0].resources.requests: '
        'Invalid value: "2": must be less than or equal to cpu limit of 1500m'
    )


def test_bodies_that_do_not_decode_answer_400_and_store_nothing(
    kube_emulator: KubeEmulator, api_client: client.ApiClient, core: client.CoreV1Api
) -> None:
    http = urllib3.PoolManager()
    url = f"{kube_emulator.url}/api/v1/namespaces/default"
    cases = [
        (
            "pods",
            {**pod_body("p"), "metadata": {"name": 123}},
            "Go struct field ObjectMeta.metadata.name of type string",
        ),
        ("pods", {**pod_body("p"), "metadata": "x"}, "Go struct field Pod.metadata of type v1.ObjectMeta"),
        ("pods", {**pod_body("p"), "metadata": {"generateName": 123}}, "ObjectMeta.metadata.generateName"),
        ("configmaps", {"metadata": {"name": "c"}, "data": {"n": 1}}, "Go struct field ConfigMap.data of type string"),
        (
            "pods",
            {
                **pod_body("p"),
                "spec": {"containers": [{"name": "a", "image": "i", "resources": {"limits": {"cpu": "lots"}}}]},
            },
            "quantities must match the regular expression",
        ),
    ]
    for plural, body, expected in cases:
        answer = http.request(
            "POST", f"{url}/{plural}", body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        status = json.loads(answer.data)
        assert (answer.status, status["reason"]) == (400, "BadRequest"), status
        assert expected in status["message"]
    assert json.loads(http.request("POST", f"{url}/pods", body=json.dumps(cases[0][1])).data)["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field '
        "ObjectMeta.metadata.name of type string"
    )
    applied = http.request(
        "PATCH",
        f"{url}/pods/p?fieldManager=me",
        body=json.dumps({**pod_body("p"), "metadata": ["p"]}),
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert applied.status == 400
    assert "Go struct field Pod.metadata of type v1.ObjectMeta" in json.loads(applied.data)["message"]
    assert core.list_namespaced_pod("default").items == []
    assert core.list_namespaced_config_map("default").items == []


def test_status_sent_on_create_or_update_of_the_main_resource_is_ignored(
    core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    created = apps.create_namespaced_deployment("default", {**deployment_body("web"), "status": {"readyReplicas": 5}})
    assert created.status is None or created.status.ready_replicas is None
    pod = core.create_namespaced_pod("default", {**pod_body("p"), "status": {"phase": "Running"}})
    assert pod.status.phase == "Pending"
    patched = core.patch_namespaced_pod("p", "default", {"status": {"phase": "Failed"}})
    assert patched.status.phase == "Pending"
    assert core.patch_namespaced_pod_status("p", "default", {"status": {"phase": "Running"}}).status.phase == "Running"


def test_no_new_finalizer_on_an_object_being_deleted(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", {"metadata": {"name": "held", "finalizers": ["a.io/x"]}})
    core.delete_namespaced_config_map("held", "default")
    code, body = failure(
        core.patch_namespaced_config_map, "held", "default", {"metadata": {"finalizers": ["a.io/x", "b.io/y"]}}
    )
    assert code == 422
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueForbidden",
            "message": "Forbidden: no new finalizers can be added if the object is being deleted, found new "
            'finalizers []string{"b.io/y"}',
            "field": "metadata.finalizers",
        }
    ]


def test_an_unknown_propagation_policy_is_rejected(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    code, body = failure(core.delete_namespaced_config_map, "cfg", "default", propagation_policy="Sometimes")
    assert code == 422
    assert body["message"] == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sometimes": '
        'supported values: "Foreground", "Background", "Orphan"'
    )
    assert core.read_namespaced_config_map("cfg", "default").metadata.name == "cfg"


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
_item = st.dictionaries(
    st.sampled_from(["name", "image", "ports", "resources", "port", "containerPort", "limits", "labels"]),
    _json,
    max_size=4,
)
_spec = st.dictionaries(
    st.sampled_from(["containers", "ports", "selector", "type", "replicas", "template", "clusterIP"]),
    _json | st.lists(_item | st.none(), max_size=3) | _item,
    max_size=4,
)
_PATHS = {
    "pods": "/api/v1/namespaces/default/pods",
    "configmaps": "/api/v1/namespaces/default/configmaps",
    "services": "/api/v1/namespaces/default/services",
    "secrets": "/api/v1/namespaces/default/secrets",
    "deployments": "/apis/apps/v1/namespaces/default/deployments",
}
_LISTS = {
    "pods": ("CoreV1Api", "list_pod_for_all_namespaces"),
    "configmaps": ("CoreV1Api", "list_config_map_for_all_namespaces"),
    "services": ("CoreV1Api", "list_service_for_all_namespaces"),
    "secrets": ("CoreV1Api", "list_secret_for_all_namespaces"),
    "deployments": ("AppsV1Api", "list_deployment_for_all_namespaces"),
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plural=st.sampled_from(sorted(_PATHS)),
    body=st.dictionaries(st.sampled_from(["data", "status", "kind", "apiVersion", "type"]), _json, max_size=3),
    spec=st.none() | _spec,
    meta=st.dictionaries(st.sampled_from(["name", "generateName", "labels", "annotations", "finalizers"]), _json),
)
def test_hostile_bodies_never_break_the_server(
    kube_emulator: KubeEmulator,
    api_client: client.ApiClient,
    plural: str,
    body: dict[str, Any],
    spec: Any,
    meta: dict[str, Any],
) -> None:
    http = urllib3.PoolManager()
    sent = {**body, "metadata": {**meta, "name": meta.get("name", "x")}}
    if spec is not None:
        sent["spec"] = spec
    answer = http.request(
        "POST", kube_emulator.url + _PATHS[plural], body=json.dumps(sent), headers={"Content-Type": "application/json"}
    )
    assert answer.status in (201, 400, 409, 422), answer.data
    assert kube_emulator.handler.failures == []
    listed = http.request("GET", kube_emulator.url + _PATHS[plural].replace("/namespaces/default", ""))
    assert listed.status == 200
    api_class, method = _LISTS[plural]
    getattr(getattr(client, api_class)(api_client), method)()  # the typed client parses whatever was stored
