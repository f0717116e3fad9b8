"""Lists: label and field selectors, namespaces, limit/continue pages, through the real client."""

from __future__ import annotations

import json

import pytest
from emu_helpers import pod_body
from kubernetes import client
from kubernetes.client import ApiException

from nautilus_core.testing import KubeEmulator

LABELS = {
    "web-1": {"app": "web", "tier": "front", "env": "prod"},
    "web-2": {"app": "web", "tier": "front", "env": "staging"},
    "api-1": {"app": "api", "tier": "back", "env": "prod"},
    "db-1": {"app": "db", "env": "prod"},
    "batch-1": {},
}


@pytest.fixture
def labelled(kube_emulator: KubeEmulator) -> KubeEmulator:
    for name, labels in LABELS.items():
        kube_emulator.create(
            pod_body(name, labels) | {"metadata": {"name": name, "namespace": "shop", "labels": labels}}
        )
    kube_emulator.create(
        pod_body("other", {"app": "web"})
        | {"metadata": {"name": "other", "namespace": "ops", "labels": {"app": "web"}}}
    )
    return kube_emulator


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", {"web-1", "web-2"}),
        ("app==web", {"web-1", "web-2"}),
        ("app!=web", {"api-1", "db-1", "batch-1"}),
        ("tier in (front, back)", {"web-1", "web-2", "api-1"}),
        ("env notin (prod)", {"web-2", "batch-1"}),
        ("tier", {"web-1", "web-2", "api-1"}),
        ("!tier", {"db-1", "batch-1"}),
        ("app=web,env=prod", {"web-1"}),
        ("env in (prod),!tier", {"db-1"}),
    ],
)
def test_label_selectors(
    labelled: KubeEmulator, core: client.CoreV1Api, selector: str, expected: set[str]
) -> None:
    listed = core.list_namespaced_pod("shop", label_selector=selector)
    assert {pod.metadata.name for pod in listed.items} == expected


def test_malformed_label_selector_is_a_400(labelled: KubeEmulator, core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod("shop", label_selector="app in (web")
    assert caught.value.status == 400


def test_field_selectors_and_unsupported_fields(labelled: KubeEmulator, core: client.CoreV1Api) -> None:
    by_name = core.list_pod_for_all_namespaces(field_selector="metadata.name=web-1")
    assert [(p.metadata.namespace, p.metadata.name) for p in by_name.items] == [("shop", "web-1")]
    by_namespace = core.list_pod_for_all_namespaces(field_selector="metadata.namespace!=shop")
    assert [p.metadata.name for p in by_namespace.items] == ["other"]
    labelled.patch("v1", "Pod", "api-1", {"status": {"phase": "Running"}}, namespace="shop")
    running = core.list_namespaced_pod("shop", field_selector="status.phase=Running")
    assert [p.metadata.name for p in running.items] == ["api-1"]
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod("shop", field_selector="spec.containers=x")
    assert caught.value.status == 400
    assert json.loads(caught.value.body)["message"] == "field label not supported: spec.containers"


def test_all_namespaces_versus_one(labelled: KubeEmulator, core: client.CoreV1Api) -> None:
    everywhere = core.list_pod_for_all_namespaces(label_selector="app=web")
    assert {(p.metadata.namespace, p.metadata.name) for p in everywhere.items} == {
        ("shop", "web-1"),
        ("shop", "web-2"),
        ("ops", "other"),
    }
    assert [p.metadata.name for p in core.list_namespaced_pod("ops").items] == ["other"]
    assert core.list_namespaced_pod("empty").items == []


def test_limit_and_continue_page_through_everything_once(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    for i in range(23):
        kube_emulator.create(pod_body(f"p{i:02d}") | {"metadata": {"name": f"p{i:02d}", "namespace": "bulk"}})
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = core.list_namespaced_pod("bulk", limit=10, _continue=token)
        pages += 1
        seen += [p.metadata.name for p in page.items]
        assert page.metadata.resource_version == str(kube_emulator.resource_version)
        token = page.metadata._continue
        if not token:
            assert page.metadata.remaining_item_count is None
            break
        assert page.metadata.remaining_item_count == 23 - len(seen)
    assert pages == 3
    assert seen == sorted(seen) and len(set(seen)) == 23


def test_pages_with_a_selector_skip_non_matching_items(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    for i in range(12):
        labels = {"keep": "yes"} if i % 3 == 0 else {}
        kube_emulator.create(
            pod_body(f"p{i:02d}") | {"metadata": {"name": f"p{i:02d}", "namespace": "n", "labels": labels}}
        )
    first = core.list_namespaced_pod("n", limit=2, label_selector="keep=yes")
    assert [p.metadata.name for p in first.items] == ["p00", "p03"]
    second = core.list_namespaced_pod(
        "n", limit=2, label_selector="keep=yes", _continue=first.metadata._continue
    )
    assert [p.metadata.name for p in second.items] == ["p06", "p09"]
    assert second.metadata._continue is None  # nothing matches after p09


def test_garbage_continue_token_is_a_400(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod("n", limit=1, _continue="not-a-token")
    assert caught.value.status == 400


def test_raw_list_pages_parse_with_orjson_shape(labelled: KubeEmulator, core: client.CoreV1Api) -> None:
    response = core.list_pod_for_all_namespaces(limit=4, _preload_content=False)
    try:
        body = json.loads(response.data)
    finally:
        response.release_conn()
    assert body["kind"] == "PodList" and body["apiVersion"] == "v1"
    assert len(body["items"]) == 4
    assert body["metadata"]["continue"]
    assert body["metadata"]["remainingItemCount"] == 2


def test_deletecollection_removes_only_matching_objects(
    labelled: KubeEmulator, core: client.CoreV1Api
) -> None:
    core.delete_collection_namespaced_pod("shop", label_selector="env=prod")
    assert {p.metadata.name for p in core.list_namespaced_pod("shop").items} == {"web-2", "batch-1"}
