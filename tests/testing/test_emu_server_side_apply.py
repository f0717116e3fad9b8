"""Server-side apply: field ownership in managedFields, 409 FieldManagerConflict, removal of dropped fields."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emu_helpers import deployment_body
from kubectl_helpers import Kubectl
from kubernetes import client
from kubernetes.client import ApiException

from nautilus_core.testing import KubeEmulator

APPLY = "application/apply-patch+yaml"


def apply(apps: client.AppsV1Api, body: dict[str, Any], manager: str, force: bool = False) -> Any:
    return apps.patch_namespaced_deployment(
        body["metadata"]["name"], "default", body, field_manager=manager, force=force, _content_type=APPLY
    )


def config(replicas: int | None = 2, labels: dict[str, str] | None = None) -> dict[str, Any]:
    body = deployment_body("web", replicas=replicas or 0)
    if replicas is None:
        del body["spec"]["replicas"]
    body["metadata"]["labels"] = {"app": "web", **(labels or {})}
    return body


def managers(obj: Any) -> dict[str, dict[str, Any]]:
    return {entry.manager: entry.fields_v1 for entry in obj.metadata.managed_fields}


def test_apply_records_the_fields_it_owns(apps: client.AppsV1Api) -> None:
    created = apply(apps, config(), "ci")
    fields = managers(created)["ci"]
    assert fields["f:spec"]["f:replicas"] == {}
    containers = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert containers == {'k:{"name":"app"}': {".": {}, "f:image": {}, "f:name": {}}}
    assert created.metadata.managed_fields[0].operation == "Apply"


def test_a_conflict_names_the_field_and_the_other_manager(apps: client.AppsV1Api) -> None:
    apply(apps, config(replicas=2), "ci")
    with pytest.raises(ApiException) as caught:
        apply(apps, config(replicas=5), "autoscaler")
    assert caught.value.status == 409
    status = json.loads(caught.value.body)
    assert status["reason"] == "Conflict"
    assert (
        status["message"] == 'Apply failed with 1 conflict: conflict with "ci" using apps/v1: .spec.replicas'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "ci" using apps/v1',
            "field": ".spec.replicas",
        }
    ]
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 2

    # the same value is shared ownership, no conflict; force takes the field over
    shared = apply(apps, config(replicas=2), "autoscaler")
    assert "f:replicas" in managers(shared)["ci"]["f:spec"]
    forced = apply(apps, config(replicas=5), "autoscaler", force=True)
    assert forced.spec.replicas == 5
    assert "f:replicas" not in managers(forced)["ci"]["f:spec"]
    assert "f:replicas" in managers(forced)["autoscaler"]["f:spec"]


def test_fields_an_applier_stops_sending_are_removed(apps: client.AppsV1Api) -> None:
    apply(apps, config(labels={"tier": "front", "team": "a"}), "ci")
    apply(apps, config(labels={"team": "a"}), "ci")
    labels = apps.read_namespaced_deployment("web", "default").metadata.labels
    assert labels == {"app": "web", "team": "a"}

    # a field another manager also owns stays when one of them stops sending it
    apply(apps, config(replicas=3), "ci")
    apply(apps, config(replicas=3), "autoscaler")
    after = apply(apps, config(replicas=None), "ci")
    assert after.spec.replicas == 3


def test_updates_with_a_field_manager_take_ownership(
    kube_emulator: KubeEmulator, apps: client.AppsV1Api
) -> None:
    apply(apps, config(replicas=2), "ci")
    apps.patch_namespaced_deployment(
        "web",
        "default",
        {"spec": {"replicas": 4}},
        field_manager="operator",
        _content_type="application/merge-patch+json",
    )
    stored = apps.read_namespaced_deployment("web", "default")
    owners = {entry.manager: entry.operation for entry in stored.metadata.managed_fields}
    assert owners == {"ci": "Apply", "operator": "Update"}
    assert managers(stored)["operator"] == {"f:spec": {"f:replicas": {}}}
    with pytest.raises(ApiException) as caught:
        apply(apps, config(replicas=2), "ci")
    assert 'conflict with "operator"' in json.loads(caught.value.body)["message"]


def test_an_item_of_a_keyed_list_without_its_key_is_refused(apps: client.AppsV1Api) -> None:
    body = config()
    body["spec"]["template"]["spec"]["containers"] = [{"image": "example/app:1"}]
    with pytest.raises(ApiException) as caught:
        apply(apps, body, "ci")
    assert caught.value.status == 422
    assert json.loads(caught.value.body)["message"].startswith(
        ".spec.template.spec.containers: element 0: associative list with keys has an element that omits "
        'key field "name"'
    )


def test_kubectl_server_side_apply_conflicts(kubectl: Kubectl) -> None:
    manifest = json.dumps(config(replicas=2))
    assert "serverside-applied" in kubectl.out(
        "apply", "--server-side", "--field-manager=ci", "-f", "-", stdin=manifest
    )
    changed = manifest.replace('"replicas": 2', '"replicas": 6')
    refused = kubectl.run(
        "apply", "--server-side", "--field-manager=other", "-f", "-", stdin=changed, check=False
    )
    assert refused.returncode == 1
    assert 'conflict with "ci" using apps/v1: .spec.replicas' in refused.stderr
    kubectl.out(
        "apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-", stdin=changed
    )
    assert kubectl.json("get", "deployment", "web")["spec"]["replicas"] == 6
