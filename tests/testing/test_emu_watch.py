"""Watches: live events, resuming from a resourceVersion, bookmarks, timeouts and 410 Gone."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest
from emu_helpers import pod_body
from kubernetes import client, watch
from kubernetes.client import ApiException

from nautilus_core.testing import KubeEmulator


def seed(emu: KubeEmulator, name: str, namespace: str = "ns", labels: dict[str, str] | None = None) -> dict:
    if emu.get("v1", "Namespace", namespace) is None:
        emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    return emu.create(
        pod_body(name) | {"metadata": {"name": name, "namespace": namespace, "labels": labels or {}}}
    )


def collect(
    core: client.CoreV1Api, timeout: int = 1, count: int | None = None, **kwargs: object
) -> list[tuple[str, str]]:
    """Events of a watch on namespace "ns" until ``timeout`` (or until ``count`` events arrived)."""
    w = watch.Watch()
    seen: list[tuple[str, str]] = []
    for event in w.stream(core.list_namespaced_pod, "ns", timeout_seconds=timeout, **kwargs):
        seen.append((event["type"], event["raw_object"]["metadata"].get("name", "")))
        if count is not None and len(seen) >= count:
            w.stop()
    return seen


def test_watch_without_version_lists_current_state_then_streams_changes(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    seed(kube_emulator, "existing")

    def later() -> None:
        time.sleep(0.3)
        core.create_namespaced_pod("ns", pod_body("new"))
        core.patch_namespaced_pod("new", "ns", {"metadata": {"labels": {"v": "2"}}})
        core.delete_namespaced_pod("new", "ns")

    writer = threading.Thread(target=later)
    writer.start()
    try:
        events = collect(core, timeout=10, count=4)
    finally:
        writer.join()
    assert events == [("ADDED", "existing"), ("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "new")]


def test_resume_from_resource_version_replays_only_later_events(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    seed(kube_emulator, "a")
    listed = core.list_namespaced_pod("ns")
    seed(kube_emulator, "b")
    kube_emulator.patch("v1", "Pod", "a", {"metadata": {"labels": {"x": "1"}}}, namespace="ns")
    kube_emulator.delete("v1", "Pod", "b", namespace="ns")
    events = collect(core, resource_version=listed.metadata.resource_version)
    assert events == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]


def test_python_api_mutations_reach_open_watches(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    start = str(kube_emulator.resource_version)
    stream = watch.Watch().stream(core.list_namespaced_pod, "ns", resource_version=start, timeout_seconds=5)
    seed(kube_emulator, "from-test")
    first = next(stream)
    assert (first["type"], first["object"].metadata.name) == ("ADDED", "from-test")
    stream.close()


def test_bookmarks_carry_the_latest_resource_version(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    seed(kube_emulator, "a")
    seed(
        kube_emulator, "elsewhere", namespace="other"
    )  # moves the global version past this watch's last event
    latest = str(kube_emulator.resource_version)
    w = watch.Watch()
    events = list(
        w.stream(
            core.list_namespaced_pod,
            "ns",
            resource_version=latest,
            allow_watch_bookmarks=True,
            timeout_seconds=1,
        )
    )
    assert events and {event["type"] for event in events} == {"BOOKMARK"}
    assert all(event["raw_object"]["metadata"]["resourceVersion"] == latest for event in events)
    assert w.resource_version == latest


def test_no_bookmarks_unless_asked(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    assert collect(core, resource_version=str(kube_emulator.resource_version)) == []


def test_timeout_seconds_ends_the_stream(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    started = time.monotonic()
    assert collect(core, timeout=1, resource_version="1") == []
    assert 0.9 <= time.monotonic() - started < 3


def test_expired_history_gives_410_to_the_client(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    seed(kube_emulator, "a")
    old = str(kube_emulator.resource_version)
    seed(kube_emulator, "b")
    kube_emulator.expire_history()
    with pytest.raises(ApiException) as caught:
        for _ in watch.Watch().stream(core.list_namespaced_pod, "ns", resource_version=old):
            pass
    assert caught.value.status == 410

    raw = core.list_namespaced_pod("ns", watch=True, resource_version=old, _preload_content=False)
    try:
        lines = [json.loads(line) for line in raw.read().splitlines() if line]
    finally:
        raw.release_conn()
    assert len(lines) == 1 and lines[0]["type"] == "ERROR"
    assert (lines[0]["object"]["code"], lines[0]["object"]["reason"]) == (410, "Expired")
    # the current version is still good: nothing was missed since then
    assert collect(core, resource_version=str(kube_emulator.resource_version)) == []


def test_bounded_history_expires_old_versions_on_its_own() -> None:
    with KubeEmulator(history_size=3) as emu:
        versions = [int(seed(emu, f"p{i}")["metadata"]["resourceVersion"]) for i in range(6)]
        raw = emu.url
        with urllib.request.urlopen(
            f"{raw}/api/v1/namespaces/ns/pods?watch=1&resourceVersion={versions[0]}"
        ) as response:
            event = json.loads(response.readline())
        assert event["type"] == "ERROR" and event["object"]["code"] == 410
        with urllib.request.urlopen(
            f"{raw}/api/v1/namespaces/ns/pods?watch=1&resourceVersion={versions[3]}&timeoutSeconds=1"
        ) as response:
            names = [json.loads(line)["object"]["metadata"]["name"] for line in response if line.strip()]
        assert names == ["p4", "p5"]


def test_watch_honours_label_selector_and_namespace(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    seed(kube_emulator, "before")
    start = str(kube_emulator.resource_version)
    seed(kube_emulator, "match", labels={"app": "web"})
    seed(kube_emulator, "other-app", labels={"app": "db"})
    seed(kube_emulator, "other-ns", namespace="elsewhere", labels={"app": "web"})
    kube_emulator.patch("v1", "Pod", "other-app", {"metadata": {"labels": {"app": "web"}}}, namespace="ns")
    kube_emulator.patch("v1", "Pod", "match", {"metadata": {"labels": {"app": "api"}}}, namespace="ns")
    events = collect(core, resource_version=start, label_selector="app=web")
    # an object entering the selector is ADDED, one leaving it is DELETED
    assert events == [("ADDED", "match"), ("ADDED", "other-app"), ("DELETED", "match")]


def test_outage_cuts_open_watch_streams(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    raw = core.list_namespaced_pod("ns", watch=True, resource_version="1", _preload_content=False)
    try:
        with kube_emulator.unreachable("drop"):
            with pytest.raises(Exception) as caught:  # urllib3 reports the cut connection as a ProtocolError
                raw.read()
            assert "ProtocolError" in type(caught.value).__name__ or "IncompleteRead" in repr(caught.value)
    finally:
        raw.release_conn()
