"""Create, read, replace, patch, apply and delete through the real kubernetes client."""

from __future__ import annotations

import json

import pytest
from emu_helpers import deployment_body, pod_body
from kubernetes import client
from kubernetes.client import ApiException

from nautilus_core.testing import SYSTEM_NAMESPACES, KubeEmulator

APPLY = "application/apply-patch+yaml"


def test_create_answers_201_with_server_fields_and_409_on_duplicate(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "shop"}})
    body, status, _ = core.create_namespaced_pod_with_http_info("shop", pod_body("web"))
    assert status == 201
    assert body.metadata.uid and body.metadata.creation_timestamp is not None
    first_rv = int(body.metadata.resource_version)

    second = core.create_namespaced_pod("shop", pod_body("api"))
    assert int(second.metadata.resource_version) > first_rv
    assert second.metadata.uid != body.metadata.uid

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod("shop", pod_body("web"))
    assert caught.value.status == 409
    status_obj = json.loads(caught.value.body)
    assert status_obj["kind"] == "Status"
    assert status_obj["reason"] == "AlreadyExists"
    assert status_obj["details"] == {"name": "web", "kind": "pods"}


def test_namespaces_are_creatable_listable_and_readable(core: client.CoreV1Api) -> None:
    for name in ("a", "b"):
        core.create_namespace({"metadata": {"name": name, "labels": {"team": name}}})
    listed = core.list_namespace()
    assert [ns.metadata.name for ns in listed.items] == sorted(["a", "b", *SYSTEM_NAMESPACES])
    assert listed.items[0].status.phase == "Active"
    assert core.read_namespace("b").metadata.labels["team"] == "b"
    assert core.read_namespace("b").metadata.labels["kubernetes.io/metadata.name"] == "b"


def test_get_missing_object_is_a_404_status_naming_it(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("nope", "default")
    assert caught.value.status == 404
    body = json.loads(caught.value.body)
    assert body["reason"] == "NotFound"
    assert body["message"] == 'configmaps "nope" not found'
    assert body["details"] == {"name": "nope", "kind": "configmaps"}


def test_put_with_stale_resource_version_is_a_conflict(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}, "data": {"k": "1"}})
    created.data = {"k": "2"}
    updated = core.replace_namespaced_config_map("cfg", "default", created)
    assert updated.data == {"k": "2"}
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)

    created.data = {"k": "3"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("cfg", "default", created)
    assert caught.value.status == 409
    assert json.loads(caught.value.body)["reason"] == "Conflict"
    assert core.read_namespaced_config_map("cfg", "default").data == {"k": "2"}


def test_merge_patch_merges_maps_and_removes_nulls(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "cfg", "labels": {"a": "1", "b": "2"}}, "data": {"x": "1"}}
    )
    patched = core.patch_namespaced_config_map(
        "cfg",
        "default",
        {"metadata": {"labels": {"b": None, "c": "3"}}, "data": {"y": "2"}},
        _content_type="application/merge-patch+json",
    )
    assert patched.metadata.labels == {"a": "1", "c": "3"}
    assert patched.data == {"x": "1", "y": "2"}


def test_strategic_patch_replaces_lists_and_json_patch_edits_in_place(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment_body("web"))
    patched = apps.patch_namespaced_deployment(
        "web",
        "default",
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "example/app:2"}]}}}},
    )
    assert [c.image for c in patched.spec.template.spec.containers] == ["example/app:2"]
    # a list body makes the client send application/json-patch+json
    patched = apps.patch_namespaced_deployment(
        "web",
        "default",
        [
            {"op": "replace", "path": "/spec/replicas", "value": 5},
            {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
        ],
    )
    assert patched.spec.replicas == 5
    assert patched.metadata.labels == {"app": "web", "tier": "front"}


def test_generation_bumps_on_spec_change_only(apps: client.AppsV1Api) -> None:
    created = apps.create_namespaced_deployment("default", deployment_body("web"))
    assert created.metadata.generation == 1
    labelled = apps.patch_namespaced_deployment("web", "default", {"metadata": {"labels": {"x": "y"}}})
    assert labelled.metadata.generation == 1
    scaled = apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 4}})
    assert scaled.metadata.generation == 2


def test_server_side_apply_creates_then_merges_and_records_the_manager(core: client.CoreV1Api) -> None:
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"a": "1"}}

    def apply(body: dict, manager: str | None = "nautilus") -> tuple[client.V1ConfigMap, int]:
        result, status, _ = core.patch_namespaced_config_map_with_http_info(
            "applied", "default", body, field_manager=manager, _content_type=APPLY
        )
        return result, status

    created, status = apply(manifest)
    assert status == 201
    assert created.metadata.managed_fields[0].manager == "nautilus"
    merged, status = apply({**manifest, "data": {"b": "2"}})
    assert status == 200
    assert merged.data == {"b": "2"}  # "a", applied before and no longer sent, is removed
    assert [f.manager for f in merged.metadata.managed_fields] == ["nautilus"]
    again, _ = apply({**manifest, "data": {"b": "2"}})
    assert again.metadata.resource_version == merged.metadata.resource_version  # a no-op apply writes nothing
    with pytest.raises(ApiException) as caught:
        apply(manifest, manager=None)
    assert caught.value.status == 400
    assert "fieldManager" in json.loads(caught.value.body)["message"]


def test_delete_returns_object_or_status_and_honours_finalizers(
    core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    core.create_namespaced_pod("default", pod_body("gone"))
    deleted = core.delete_namespaced_pod("gone", "default")
    assert deleted.metadata.name == "gone"
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod("gone", "default")
    assert caught.value.status == 404

    apps.create_namespaced_deployment("default", deployment_body("web"))
    status = apps.delete_namespaced_deployment("web", "default")  # the client gives this one as a dict
    assert (status["kind"], status["status"], status["details"]["name"]) == ("Status", "Success", "web")

    body = {"metadata": {"name": "held", "finalizers": ["example.com/cleanup"]}, "data": {}}
    core.create_namespaced_config_map("default", body)
    core.delete_namespaced_config_map("held", "default")
    held = core.read_namespaced_config_map("held", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("held", "default")


def test_status_subresource_is_separate_from_the_main_resource(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment_body("web"))
    apps.patch_namespaced_deployment_status("web", "default", {"status": {"readyReplicas": 2, "replicas": 2}})
    # a write to the main resource cannot change status ...
    ignored = apps.patch_namespaced_deployment("web", "default", {"status": {"readyReplicas": 0}})
    assert ignored.status.ready_replicas == 2
    # ... and a write to /status cannot change the spec
    current = apps.read_namespaced_deployment_status("web", "default")
    current.spec.replicas = 9
    current.status.ready_replicas = 1
    written = apps.replace_namespaced_deployment_status("web", "default", current)
    assert (written.spec.replicas, written.status.ready_replicas) == (2, 1)


def test_scale_subresource_reads_and_writes_replicas(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_stateful_set("default", {**deployment_body("db"), "kind": "StatefulSet"})
    scale = apps.read_namespaced_stateful_set_scale("db", "default")
    assert (scale.kind, scale.spec.replicas, scale.status.selector) == ("Scale", 2, "app=db")
    scale.spec.replicas = 3
    assert apps.replace_namespaced_stateful_set_scale("db", "default", scale).spec.replicas == 3
    apps.patch_namespaced_stateful_set_scale("db", "default", {"spec": {"replicas": 0}})
    assert apps.read_namespaced_stateful_set("db", "default").spec.replicas == 0


def test_leases_update_with_resource_version_precondition(api_client: client.ApiClient) -> None:
    leases = client.CoordinationV1Api(api_client)
    lease = leases.create_namespaced_lease(
        "default",
        {"metadata": {"name": "leader"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}},
    )
    stale = leases.read_namespaced_lease("leader", "default")
    lease.spec.holder_identity = "b"
    won = leases.replace_namespaced_lease("leader", "default", lease)
    assert won.spec.holder_identity == "b"
    stale.spec.holder_identity = "c"
    with pytest.raises(ApiException) as caught:
        leases.replace_namespaced_lease("leader", "default", stale)
    assert caught.value.status == 409
    assert leases.read_namespaced_lease("leader", "default").spec.holder_identity == "b"


def test_custom_resources_crud(kube_emulator: KubeEmulator, custom: client.CustomObjectsApi) -> None:
    kube_emulator.add_resource("oda.tmforum.org", "v1", "components", "Component")
    body = {
        "apiVersion": "oda.tmforum.org/v1",
        "kind": "Component",
        "metadata": {"name": "billing", "labels": {"tier": "core"}},
        "spec": {"version": "1.0"},
    }
    created = custom.create_namespaced_custom_object("oda.tmforum.org", "v1", "default", "components", body)
    assert created["metadata"]["generation"] == 1
    listed = custom.list_namespaced_custom_object(
        "oda.tmforum.org", "v1", "default", "components", label_selector="tier=core"
    )
    assert [item["metadata"]["name"] for item in listed["items"]] == ["billing"]
    assert listed["kind"] == "ComponentList"
    patched = custom.patch_namespaced_custom_object(
        "oda.tmforum.org", "v1", "default", "components", "billing", {"spec": {"version": "1.1"}}
    )
    assert (patched["spec"]["version"], patched["metadata"]["generation"]) == ("1.1", 2)
    custom.patch_namespaced_custom_object_status(
        "oda.tmforum.org",
        "v1",
        "default",
        "components",
        "billing",
        {"status": {"summary/status": {"deployment_status": "Complete"}}},
    )
    fetched = custom.get_namespaced_custom_object("oda.tmforum.org", "v1", "default", "components", "billing")
    assert fetched["status"]["summary/status"]["deployment_status"] == "Complete"
    assert fetched["metadata"]["generation"] == 2  # status writes do not bump the generation
    custom.delete_namespaced_custom_object("oda.tmforum.org", "v1", "default", "components", "billing")
    assert kube_emulator.get("oda.tmforum.org/v1", "Component", "billing", "default") is None


def test_undeclared_resource_is_a_404(custom: client.CustomObjectsApi) -> None:
    with pytest.raises(ApiException) as caught:
        custom.list_namespaced_custom_object("example.com", "v1", "default", "widgets")
    assert caught.value.status == 404


def test_python_api_sees_and_changes_what_the_client_sees(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    kube_emulator.create(
        pod_body("seeded")
        | {"metadata": {"name": "seeded", "namespace": "ops"}, "status": {"phase": "Running"}}
    )
    assert core.read_namespaced_pod("seeded", "ops").status.phase == "Running"
    core.patch_namespaced_pod("seeded", "ops", {"metadata": {"labels": {"seen": "yes"}}})
    assert kube_emulator.get("v1", "pods", "seeded", "ops")["metadata"]["labels"] == {"seen": "yes"}
    kube_emulator.patch("v1", "Pod", "seeded", {"status": {"phase": "Failed"}}, namespace="ops")
    assert core.read_namespaced_pod("seeded", "ops").status.phase == "Failed"
    kube_emulator.delete("v1", "Pod", "seeded", namespace="ops")
    assert core.list_namespaced_pod("ops").items == []


def test_generate_name_dry_run_and_delete_preconditions(core: client.CoreV1Api) -> None:
    generated = core.create_namespaced_config_map("default", {"metadata": {"generateName": "job-"}})
    assert generated.metadata.name.startswith("job-") and len(generated.metadata.name) == len("job-") + 5
    core.create_namespaced_config_map("default", {"metadata": {"name": "dry"}}, dry_run="All")
    assert [cm.metadata.name for cm in core.list_namespaced_config_map("default").items] == [
        generated.metadata.name
    ]
    stale = client.V1DeleteOptions(preconditions=client.V1Preconditions(resource_version="1"))
    core.patch_namespaced_config_map(generated.metadata.name, "default", {"data": {"k": "v"}})
    with pytest.raises(ApiException) as caught:
        core.delete_namespaced_config_map(generated.metadata.name, "default", body=stale)
    assert caught.value.status == 409
    assert core.read_namespaced_config_map(generated.metadata.name, "default").data == {"k": "v"}


def test_deleting_a_namespace_deletes_what_is_in_it(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespace({"metadata": {"name": "kept"}})
    for namespace in ("doomed", "kept"):
        core.create_namespaced_pod(namespace, pod_body("p"))
    core.delete_namespace("doomed")
    assert [(p.metadata.namespace, p.metadata.name) for p in core.list_pod_for_all_namespaces().items] == [
        ("kept", "p")
    ]
    assert [ns.metadata.name for ns in core.list_namespace().items] == sorted(["kept", *SYSTEM_NAMESPACES])
