"""CustomResourceDefinitions through the real kubernetes client: served, validated, pruned, defaulted."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from emu_helpers import http
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes import client, dynamic, watch
from kubernetes.client import ApiException

from nautilus_core.testing import KubeEmulator
from nautilus_core.testing.schema import validate


def widget_crd(**version_overrides: Any) -> dict[str, Any]:
    v1 = {
        "name": "v1",
        "served": True,
        "storage": True,
        "subresources": {
            "status": {},
            "scale": {
                "specReplicasPath": ".spec.replicas",
                "statusReplicasPath": ".status.replicas",
                "labelSelectorPath": ".status.selector",
            },
        },
        "additionalPrinterColumns": [
            {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
            {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
        ],
        "schema": {
            "openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "required": ["size"],
                        "properties": {
                            "size": {"type": "integer", "minimum": 1, "maximum": 10},
                            "color": {"type": "string", "enum": ["blue", "red"], "default": "blue"},
                            "replicas": {"type": "integer", "default": 1},
                            "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}},
                            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    },
                    "status": {
                        "type": "object",
                        "properties": {
                            "replicas": {"type": "integer"},
                            "selector": {"type": "string"},
                            "conditions": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {"type": {"type": "string"}, "status": {"type": "string"}},
                                },
                            },
                        },
                    },
                },
            }
        },
        **version_overrides,
    }
    beta = {
        "name": "v1beta1",
        "served": True,
        "storage": False,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [v1, beta],
        },
    }


def widget(name: str, spec: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    return {
        "apiVersion": f"example.com/{version}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": spec,
    }


@pytest.fixture
def ext(api_client: client.ApiClient) -> client.ApiextensionsV1Api:
    return client.ApiextensionsV1Api(api_client)


@pytest.fixture
def installed(ext: client.ApiextensionsV1Api) -> client.V1CustomResourceDefinition:
    return ext.create_custom_resource_definition(widget_crd())


def status_of(error: ApiException) -> dict[str, Any]:
    return json.loads(error.body)


def test_created_crd_is_established_and_served_in_discovery(
    installed: client.V1CustomResourceDefinition, api_client: client.ApiClient
) -> None:
    conditions = {c.type: c.status for c in installed.status.conditions}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert installed.status.accepted_names.singular == "widget"
    assert installed.status.accepted_names.list_kind == "WidgetList"
    assert installed.status.stored_versions == ["v1"]

    resources = dynamic.DynamicClient(api_client).resources
    found = resources.get(api_version="example.com/v1", kind="Widget")
    assert found.name == "widgets" and found.namespaced
    groups = client.ApisApi(api_client).get_api_versions().groups
    example = next(g for g in groups if g.name == "example.com")
    assert example.preferred_version.version == "v1"
    assert [v.version for v in example.versions] == ["v1", "v1beta1"]


def test_custom_objects_are_defaulted_pruned_and_validated(
    installed: client.V1CustomResourceDefinition, custom: client.CustomObjectsApi
) -> None:
    created = custom.create_namespaced_custom_object(
        "example.com",
        "v1",
        "default",
        "widgets",
        widget("w1", {"size": 3, "bogus": True, "extra": {"anything": {"goes": 1}}}),
    )
    assert created["spec"] == {"size": 3, "color": "blue", "replicas": 1, "extra": {"anything": {"goes": 1}}}

    with pytest.raises(ApiException) as caught:
        custom.create_namespaced_custom_object(
            "example.com", "v1", "default", "widgets", widget("w2", {"size": 0, "color": "green"})
        )
    assert caught.value.status == 422
    body = status_of(caught.value)
    assert body["reason"] == "Invalid"
    assert body["message"].startswith('Widget.example.com "w2" is invalid: [spec.size: Invalid value: 0')
    fields = {cause["field"]: cause["reason"] for cause in body["details"]["causes"]}
    assert fields == {"spec.size": "FieldValueInvalid", "spec.color": "FieldValueNotSupported"}
    assert (
        custom.list_namespaced_custom_object("example.com", "v1", "default", "widgets")["items"][0][
            "metadata"
        ]["name"]
        == "w1"
    )


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({}, "spec.size", "Required value"),
        (
            {"size": "big"},
            "spec.size",
            'Invalid value: "string": spec.size in body must be of type integer: "string"',
        ),
        (
            {"size": 11},
            "spec.size",
            "Invalid value: 11: spec.size in body should be less than or equal to 10",
        ),
        ({"size": 2, "tags": ["ok", "toolong"]}, "spec.tags[1]", "Too long: may not be longer than 5"),
    ],
)
def test_invalid_custom_objects_get_422_naming_the_field(
    installed: client.V1CustomResourceDefinition,
    custom: client.CustomObjectsApi,
    spec: dict[str, Any],
    field: str,
    message: str,
) -> None:
    with pytest.raises(ApiException) as caught:
        custom.create_namespaced_custom_object("example.com", "v1", "default", "widgets", widget("bad", spec))
    body = status_of(caught.value)
    assert caught.value.status == 422
    assert body["details"]["causes"] == [
        {"reason": body["details"]["causes"][0]["reason"], "message": message, "field": field}
    ]
    assert body["message"] == f'Widget.example.com "bad" is invalid: {field}: {message}'


def test_status_and_scale_subresources(
    installed: client.V1CustomResourceDefinition, custom: client.CustomObjectsApi
) -> None:
    created = custom.create_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", {**widget("w", {"size": 2}), "status": {"replicas": 7}}
    )
    assert "status" not in created  # status sent on create is ignored
    # status on the main resource is ignored; the status subresource takes it (validated too)
    custom.patch_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", "w", {"spec": {"size": 4}, "status": {"replicas": 9}}
    )
    assert "status" not in custom.get_namespaced_custom_object("example.com", "v1", "default", "widgets", "w")
    custom.patch_namespaced_custom_object_status(
        "example.com", "v1", "default", "widgets", "w", {"status": {"replicas": 1, "selector": "app=w"}}
    )
    with pytest.raises(ApiException) as caught:
        custom.patch_namespaced_custom_object_status(
            "example.com", "v1", "default", "widgets", "w", {"status": {"replicas": "one"}}
        )
    assert status_of(caught.value)["details"]["causes"][0]["field"] == "status.replicas"

    scale = custom.get_namespaced_custom_object_scale("example.com", "v1", "default", "widgets", "w")
    assert scale["spec"] == {"replicas": 1} and scale["status"] == {"replicas": 1, "selector": "app=w"}
    custom.patch_namespaced_custom_object_scale(
        "example.com", "v1", "default", "widgets", "w", {"spec": {"replicas": 5}}
    )
    stored = custom.get_namespaced_custom_object("example.com", "v1", "default", "widgets", "w")
    assert stored["spec"] == {"size": 4, "color": "blue", "replicas": 5}
    assert stored["metadata"]["generation"] == 3


def test_versions_share_storage_with_conversion_none(
    installed: client.V1CustomResourceDefinition, custom: client.CustomObjectsApi
) -> None:
    custom.create_namespaced_custom_object(
        "example.com", "v1beta1", "default", "widgets", widget("old", {"size": 2, "free": "form"}, "v1beta1")
    )
    as_v1 = custom.get_namespaced_custom_object("example.com", "v1", "default", "widgets", "old")
    assert as_v1["apiVersion"] == "example.com/v1"
    assert as_v1["spec"] == {"size": 2, "free": "form"}  # stored as written: the v1beta1 schema kept it
    listed = custom.list_namespaced_custom_object("example.com", "v1beta1", "default", "widgets")
    assert [item["apiVersion"] for item in listed["items"]] == ["example.com/v1beta1"]


def test_watch_sees_custom_objects_in_the_watched_version(
    installed: client.V1CustomResourceDefinition, custom: client.CustomObjectsApi
) -> None:
    seen: list[tuple[str, str]] = []
    stream = watch.Watch()

    def consume() -> None:
        for event in stream.stream(
            custom.list_namespaced_custom_object,
            "example.com",
            "v1beta1",
            "default",
            "widgets",
            timeout_seconds=5,
        ):
            seen.append((event["type"], event["object"]["apiVersion"]))
            if len(seen) == 2:
                stream.stop()

    thread = threading.Thread(target=consume)
    thread.start()
    custom.create_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", widget("a", {"size": 1})
    )
    custom.patch_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", "a", {"spec": {"size": 2}}
    )
    thread.join(10)
    assert seen == [("ADDED", "example.com/v1beta1"), ("MODIFIED", "example.com/v1beta1")]


def test_strategic_merge_patch_of_a_custom_object_is_415(
    installed: client.V1CustomResourceDefinition, kube_emulator: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    custom.create_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", widget("w", {"size": 1})
    )
    code, body, _ = http(
        kube_emulator.url,
        "PATCH",
        "/apis/example.com/v1/namespaces/default/widgets/w",
        {"spec": {"size": 2}},
        "application/strategic-merge-patch+json",
    )
    assert code == 415
    assert "strategic" not in body["message"]


def test_invalid_crds_get_422_naming_the_field(ext: client.ApiextensionsV1Api) -> None:
    bad = widget_crd(storage=False)
    bad["metadata"]["name"] = "gadgets.example.com"
    bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["size"] = {}
    with pytest.raises(ApiException) as caught:
        ext.create_custom_resource_definition(bad)
    body = status_of(caught.value)
    assert caught.value.status == 422
    assert body["message"].startswith(
        'CustomResourceDefinition.apiextensions.k8s.io "gadgets.example.com" is invalid'
    )
    assert {cause["field"] for cause in body["details"]["causes"]} == {
        "metadata.name",
        "spec.versions",
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].type",
    }


def test_protected_groups_and_builtin_resources_cannot_be_taken(
    ext: client.ApiextensionsV1Api, apps: client.AppsV1Api
) -> None:
    protected = widget_crd()
    protected["metadata"]["name"] = "widgets.x.k8s.io"
    protected["spec"]["group"] = "x.k8s.io"
    with pytest.raises(ApiException) as caught:
        ext.create_custom_resource_definition(protected)
    assert [c["field"] for c in status_of(caught.value)["details"]["causes"]] == [
        "metadata.annotations[api-approved.kubernetes.io]"
    ]
    protected["metadata"]["annotations"] = {"api-approved.kubernetes.io": "unapproved, experimental-only"}
    ext.create_custom_resource_definition(protected)

    shadow = widget_crd()
    shadow["metadata"] = {
        "name": "deployments.apps.k8s.io",
        "annotations": {"api-approved.kubernetes.io": "x"},
    }
    shadow["spec"]["group"] = "apps"
    shadow["spec"]["names"] = {"plural": "deployments", "kind": "Deployment"}
    with pytest.raises(ApiException) as caught:
        ext.create_custom_resource_definition(shadow)
    assert caught.value.status == 422
    assert apps.list_namespaced_deployment("default").items == []  # still the built-in resource


def test_deleting_the_crd_removes_its_objects_and_stops_serving(
    installed: client.V1CustomResourceDefinition,
    ext: client.ApiextensionsV1Api,
    custom: client.CustomObjectsApi,
    kube_emulator: KubeEmulator,
) -> None:
    custom.create_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", widget("w", {"size": 1})
    )
    ext.delete_custom_resource_definition("widgets.example.com")
    with pytest.raises(ApiException) as caught:
        custom.list_namespaced_custom_object("example.com", "v1", "default", "widgets")
    assert caught.value.status == 404
    assert kube_emulator.objects(namespace="default") == []
    # installing it again serves an empty resource
    ext.create_custom_resource_definition(widget_crd())
    assert custom.list_namespaced_custom_object("example.com", "v1", "default", "widgets")["items"] == []


def test_moving_the_storage_version_keeps_the_objects(
    installed: client.V1CustomResourceDefinition,
    ext: client.ApiextensionsV1Api,
    custom: client.CustomObjectsApi,
) -> None:
    custom.create_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", widget("w", {"size": 1})
    )
    crd = ext.read_custom_resource_definition("widgets.example.com")
    crd.spec.versions[0].storage = False
    crd.spec.versions[1].storage = True
    moved = ext.replace_custom_resource_definition("widgets.example.com", crd)
    assert moved.status.stored_versions == ["v1", "v1beta1"]
    for version in ("v1", "v1beta1"):
        listed = custom.list_namespaced_custom_object("example.com", version, "default", "widgets")
        assert [item["metadata"]["name"] for item in listed["items"]] == ["w"]


def test_unserving_a_version_removes_it_from_discovery(
    installed: client.V1CustomResourceDefinition,
    ext: client.ApiextensionsV1Api,
    custom: client.CustomObjectsApi,
) -> None:
    custom.create_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", widget("w", {"size": 1})
    )
    crd = ext.read_custom_resource_definition("widgets.example.com")
    crd.spec.versions[1].served = False
    ext.replace_custom_resource_definition("widgets.example.com", crd)
    with pytest.raises(ApiException) as caught:
        custom.list_namespaced_custom_object("example.com", "v1beta1", "default", "widgets")
    assert caught.value.status == 404
    assert len(custom.list_namespaced_custom_object("example.com", "v1", "default", "widgets")["items"]) == 1


def test_crd_created_by_test_code_is_served_too(
    kube_emulator: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    kube_emulator.create(widget_crd())
    created = custom.create_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", widget("w", {"size": 1})
    )
    assert created["spec"]["color"] == "blue"


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def test_hostile_custom_objects_get_clear_errors_and_never_corrupt_the_store() -> None:
    """Any JSON as a custom object's spec: 201, 400 or 422, never 500; what is stored obeys the schema."""
    schema = widget_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    with KubeEmulator() as emu:
        emu.create(widget_crd())
        counter = iter(range(10_000))

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            spec=JSON, top=st.dictionaries(st.sampled_from(["status", "extra", "metadata"]), JSON, max_size=2)
        )
        def post(spec: Any, top: dict[str, Any]) -> None:
            body = {**top, **widget(f"w{next(counter)}", spec)}
            code, answer, _ = http(emu.url, "POST", "/apis/example.com/v1/namespaces/default/widgets", body)
            assert code in (201, 400, 422), answer
            if code != 201:
                assert answer["kind"] == "Status" and answer["message"]

        post()
        assert emu.handler.failures == []
        code, listed, _ = http(emu.url, "GET", "/apis/example.com/v1/namespaces/default/widgets")
        assert code == 200
        for item in listed["items"]:
            assert (
                validate(
                    schema, {k: v for k, v in item.items() if k not in ("apiVersion", "kind", "metadata")}
                )
                == []
            )
