"""Pod logs: container choice, tailLines, previous, timestamps and the errors of a real server."""

from __future__ import annotations

import json
import re

import pytest
from emu_helpers import pod_body
from kubernetes import client
from kubernetes.client import ApiException

from nautilus_core.testing import KubeEmulator

APP_LOG = "starting\nINFO ready\nWARN slow\nERROR boom\n"


@pytest.fixture
def pods(kube_emulator: KubeEmulator) -> KubeEmulator:
    kube_emulator.create(pod_body("single") | {"metadata": {"name": "single", "namespace": "ns"}})
    kube_emulator.create(
        pod_body("multi", containers=("app", "sidecar")) | {"metadata": {"name": "multi", "namespace": "ns"}}
    )
    kube_emulator.set_logs("ns", "single", "app", APP_LOG)
    kube_emulator.set_logs("ns", "single", "app", "old instance crashed\nTraceback ...\n", previous=True)
    kube_emulator.set_logs("ns", "multi", "app", "app line\n")
    kube_emulator.set_logs("ns", "multi", "sidecar", "sidecar line\n")
    return kube_emulator


def test_single_container_pod_needs_no_container_name(pods: KubeEmulator, core: client.CoreV1Api) -> None:
    assert core.read_namespaced_pod_log("single", "ns") == APP_LOG


def test_tail_lines_and_previous(pods: KubeEmulator, core: client.CoreV1Api) -> None:
    assert (
        core.read_namespaced_pod_log("single", "ns", container="app", tail_lines=2)
        == "WARN slow\nERROR boom\n"
    )
    assert core.read_namespaced_pod_log("single", "ns", previous=True).startswith("old instance crashed")


def test_timestamps_prefix_every_line(pods: KubeEmulator, core: client.CoreV1Api) -> None:
    lines = core.read_namespaced_pod_log("single", "ns", timestamps=True).splitlines()
    assert len(lines) == 4
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ", line) for line in lines)
    assert lines[-1].endswith(" ERROR boom")


def test_multi_container_pod_picks_by_name_and_rejects_unknown(
    pods: KubeEmulator, core: client.CoreV1Api
) -> None:
    assert core.read_namespaced_pod_log("multi", "ns", container="sidecar") == "sidecar line\n"
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log("multi", "ns")
    assert caught.value.status == 400
    assert json.loads(caught.value.body)["message"] == (
        "a container name must be specified for pod multi, choose one of: [app sidecar]"
    )
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log("multi", "ns", container="nope")
    assert caught.value.status == 400
    assert "nope is not valid for pod multi" in json.loads(caught.value.body)["message"]


def test_missing_previous_and_missing_pod(pods: KubeEmulator, core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log("multi", "ns", container="app", previous=True)
    assert caught.value.status == 400
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod_log("ghost", "ns")
    assert caught.value.status == 404


def test_log_is_plain_text(pods: KubeEmulator, core: client.CoreV1Api) -> None:
    response = core.read_namespaced_pod_log("single", "ns", _preload_content=False)
    try:
        assert response.headers["Content-Type"].startswith("text/plain")
        assert response.data.decode() == APP_LOG
    finally:
        response.release_conn()
