"""Server-side Tables, /openapi/v3 and fieldValidation, through the real client and raw HTTP."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from emu_helpers import deployment_body, http, pod_body
from kubernetes import client
from kubernetes.client import ApiException
from test_emu_crd import widget, widget_crd

from nautilus_core.testing import KubeEmulator
from nautilus_core.testing.printers import human_duration
from nautilus_core.testing.resources import ResourceType
from nautilus_core.testing.tables import json_path, table

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json"


def test_list_and_get_as_table(kube_emulator: KubeEmulator) -> None:
    kube_emulator.create({**pod_body("web"), "metadata": {"name": "web", "namespace": "default"}})
    code, body, _ = http(kube_emulator.url, "GET", "/api/v1/namespaces/default/pods", accept=TABLE)
    assert code == 200 and body["kind"] == "Table" and body["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in body["columnDefinitions"] if c["priority"] == 0] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    [row] = body["rows"]
    assert row["cells"][:4] == ["web", "0/1", "Pending", "0"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["name"] == "web"
    assert body["metadata"]["resourceVersion"] == str(kube_emulator.resource_version)

    code, one, _ = http(
        kube_emulator.url, "GET", "/api/v1/namespaces/default/pods/web?includeObject=Object", accept=TABLE
    )
    assert one["rows"][0]["object"]["kind"] == "Pod"
    code, plain, _ = http(kube_emulator.url, "GET", "/api/v1/namespaces/default/pods/web")
    assert plain["kind"] == "Pod"


def test_crd_printer_columns_in_tables(kube_emulator: KubeEmulator, custom: client.CustomObjectsApi) -> None:
    kube_emulator.create(widget_crd())
    custom.create_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", widget("w", {"size": 4})
    )
    custom.patch_namespaced_custom_object_status(
        "example.com",
        "v1",
        "default",
        "widgets",
        "w",
        {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
    )
    _, body, _ = http(
        kube_emulator.url, "GET", "/apis/example.com/v1/namespaces/default/widgets", accept=TABLE
    )
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Size", "Ready"]
    assert body["rows"][0]["cells"] == ["w", 4, "True"]
    # a version without printer columns prints NAME and AGE
    _, beta, _ = http(
        kube_emulator.url, "GET", "/apis/example.com/v1beta1/namespaces/default/widgets", accept=TABLE
    )
    assert [c["name"] for c in beta["columnDefinitions"]] == ["Name", "Age"]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (5, "5s"),
        (119, "119s"),
        (200, "3m20s"),
        (600, "10m"),
        (3 * 3600 + 120, "3h2m"),
        (30 * 3600, "30h"),
        (4 * 86400 + 3600, "4d1h"),
        (400 * 86400, "400d"),
        (3 * 365 * 86400, "3y"),
    ],
)
def test_ages_print_like_kubectl(seconds: int, shown: str) -> None:
    assert human_duration(seconds) == shown


def test_printer_column_json_paths() -> None:
    obj: dict[str, Any] = {"spec": {"items": [{"k": "a", "v": 1}, {"k": "b", "v": 2}]}}
    assert json_path(obj, ".spec.items[1].v") == [2]
    assert json_path(obj, '.spec.items[?(@.k=="a")].v') == [1]
    assert json_path(obj, ".spec.items[*].k") == ["a", "b"]
    assert json_path(obj, ".spec.missing") == []


def test_openapi_v3_index_and_documents(kube_emulator: KubeEmulator) -> None:
    kube_emulator.create(widget_crd())
    code, index, _ = http(kube_emulator.url, "GET", "/openapi/v3")
    assert code == 200
    assert {"api/v1", "apis/apps/v1", "apis/example.com/v1", "apis/example.com/v1beta1"} <= set(
        index["paths"]
    )
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")

    _, doc, _ = http(kube_emulator.url, "GET", url)
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert {"name": "fieldValidation", "in": "query"}.items() <= patch["parameters"][0].items()
    deployment = doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    containers = doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"

    _, custom_doc, _ = http(
        kube_emulator.url, "GET", index["paths"]["apis/example.com/v1"]["serverRelativeURL"]
    )
    schema = custom_doc["components"]["schemas"]["com.example.v1.Widget"]
    assert schema["properties"]["spec"]["required"] == ["size"]
    assert http(kube_emulator.url, "GET", "/openapi/v3/apis/nothing.example/v1")[0] == 404

    before = index["paths"]["apis/example.com/v1"]["serverRelativeURL"]
    crd = kube_emulator.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com")
    assert crd is not None
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["required"] = []
    kube_emulator.replace(crd)
    _, after, _ = http(kube_emulator.url, "GET", "/openapi/v3")
    assert after["paths"]["apis/example.com/v1"]["serverRelativeURL"] != before  # the hash follows the schema


def test_field_validation_strict_warn_ignore(kube_emulator: KubeEmulator, apps: client.AppsV1Api) -> None:
    body = deployment_body("web")
    body["spec"]["bogus"] = 1
    body["spec"]["template"]["spec"]["containers"][0]["imagee"] = "typo"
    base = "/apis/apps/v1/namespaces/default/deployments"

    code, status, _ = http(kube_emulator.url, "POST", f"{base}?fieldValidation=Strict", body)
    assert code == 400 and status["reason"] == "BadRequest"
    assert status["message"] == (  # in the order of the JSON body
        'strict decoding error: unknown field "spec.template.spec.containers[0].imagee", '
        'unknown field "spec.bogus"'
    )
    assert kube_emulator.get("apps/v1", "Deployment", "web", "default") is None

    code, _, headers = http(kube_emulator.url, "POST", f"{base}?fieldValidation=Warn", body)
    assert code == 201
    assert headers["warning"] == [
        '299 - "unknown field \\"spec.template.spec.containers[0].imagee\\""',
        '299 - "unknown field \\"spec.bogus\\""',
    ]
    stored = kube_emulator.get("apps/v1", "Deployment", "web", "default")
    assert stored is not None and "bogus" not in stored["spec"]  # dropped, as the real decoder does
    assert "imagee" not in stored["spec"]["template"]["spec"]["containers"][0]
    code, _, headers = http(kube_emulator.url, "PUT", f"{base}/web?fieldValidation=Ignore", body)
    assert code == 200 and "warning" not in headers
    code, status, _ = http(kube_emulator.url, "POST", f"{base}?fieldValidation=Loose", body)
    assert code == 400 and "fieldValidation" in status["message"]

    # the typed client sends the parameter too
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment(
            "web",
            "default",
            {"spec": {"nope": True}},
            field_validation="Strict",
            _content_type="application/merge-patch+json",
        )
    assert caught.value.status == 400
    assert json.loads(caught.value.body)["message"] == 'strict decoding error: unknown field "spec.nope"'


@pytest.mark.parametrize("mode", ["Strict", "Warn"])
def test_a_wrong_type_is_answered_before_unknown_fields(kube_emulator: KubeEmulator, mode: str) -> None:
    """As the real decoder: the type error (400) wins over unknown fields, whatever fieldValidation says."""
    body = deployment_body("web")
    body["spec"]["bogus"] = 1
    body["spec"]["replicas"] = "three"
    base = "/apis/apps/v1/namespaces/default/deployments"
    for method, path in (("POST", base), ("PUT", f"{base}/web")):
        if method == "PUT":
            kube_emulator.create({**deployment_body("web"), "metadata": {"name": "web", "namespace": "default"}})
        code, status, headers = http(kube_emulator.url, method, f"{path}?fieldValidation={mode}", body)
        assert code == 400, status
        assert "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas" in status["message"]
        assert "warning" not in headers
    applied = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": body["spec"]}
    code, status, _ = http(
        kube_emulator.url,
        "PATCH",
        f"{base}/web?fieldManager=me&fieldValidation={mode}",
        applied,
        "application/apply-patch+yaml",
    )
    assert code == 400 and "DeploymentSpec.spec.replicas" in status["message"], status
    stored = kube_emulator.get("apps/v1", "Deployment", "web", "default")
    assert stored is not None and stored["spec"]["replicas"] == 2 and "bogus" not in stored["spec"]  # unchanged


def test_warnings_about_hostile_field_names_are_escaped(kube_emulator: KubeEmulator) -> None:
    """An unknown field named with a newline or quote must not break (or inject into) the headers."""
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, 'x"\ny\x1f': 1}
    code, _, headers = http(kube_emulator.url, "POST", "/api/v1/namespaces/default/configmaps", body)
    assert code == 201
    assert headers["warning"] == ['299 - "unknown field \\"x\\u0022\\u000ay\\u001f\\""']


@pytest.mark.parametrize(
    ("rtype", "obj", "cells"),
    [
        (
            ResourceType("apps", "v1", "daemonsets", "DaemonSet"),
            {"status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2}},
            ["ds", 3, 3, 2, 0, 0, "<none>"],
        ),
        (
            ResourceType("networking.k8s.io", "v1", "ingresses", "Ingress"),
            {"spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example"}], "tls": [{}]}},
            ["ds", "nginx", "a.example", "", "80, 443"],
        ),
        (
            ResourceType("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
            {
                "spec": {
                    "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                    "minReplicas": 2,
                    "maxReplicas": 5,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {"name": "cpu", "target": {"averageUtilization": 80}},
                        }
                    ],
                },
                "status": {"currentReplicas": 3},
            },
            ["ds", "Deployment/web", "cpu: <unknown>/80%", 2, 5, 3],
        ),
        (
            ResourceType("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget"),
            {"spec": {"minAvailable": 1}, "status": {"disruptionsAllowed": 1}},
            ["ds", 1, "N/A", 1],
        ),
    ],
)
def test_printers_of_kinds_served_later(rtype: ResourceType, obj: dict[str, Any], cells: list[Any]) -> None:
    full = {"metadata": {"name": "ds", "creationTimestamp": "2010-01-01T00:00:00Z"}, **obj}
    [row] = table(rtype, [full], {})["rows"]
    assert row["cells"][: len(cells)] == cells
    assert re.fullmatch(r"\d+y", row["cells"][-1])  # the age: over 8 years, in years
