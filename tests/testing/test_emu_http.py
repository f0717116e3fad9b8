"""HTTP robustness: oversized bodies, malformed query parameters, YAML bodies and lists at a future
resourceVersion get the real server's answers, never a 500."""

from __future__ import annotations

import json

import urllib3
import yaml
from kubernetes import client

from nautilus_core.testing import KubeEmulator


def request(emu: KubeEmulator, method: str, path: str, body: bytes | None = None, **headers: str):
    answer = urllib3.PoolManager().request(method, emu.url + path, body=body, headers=headers)
    return answer.status, json.loads(answer.data)


def test_a_body_over_the_limit_answers_413(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    huge = json.dumps({"metadata": {"name": "big"}, "data": {"blob": "x" * (3 * 1024 * 1024 + 10)}}).encode()
    status, body = request(
        kube_emulator, "POST", "/api/v1/namespaces/default/configmaps", huge, **{"Content-Type": "application/json"}
    )
    assert (status, body["reason"], body["message"]) == (
        413,
        "RequestEntityTooLarge",
        "Request entity too large: limit is 3145728",
    )
    assert kube_emulator.handler.failures == []  # answered on purpose, not by an emulator error
    two_mib = {"metadata": {"name": "fits"}, "data": {"blob": "x" * (2 * 1024 * 1024)}}
    assert core.create_namespaced_config_map("default", two_mib).metadata.name == "fits"


def test_malformed_query_parameters_answer_400(kube_emulator: KubeEmulator) -> None:
    for query in ("watch=1&timeoutSeconds=abc", "timeoutSeconds=abc", "limit=ten"):
        status, body = request(kube_emulator, "GET", f"/api/v1/namespaces/default/pods?{query}")
        assert (status, body["reason"]) == (400, "BadRequest"), query
        assert body["message"].startswith("strconv.ParseInt: parsing ")


def test_yaml_bodies_are_accepted(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    manifest = yaml.safe_dump(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-yaml"}, "data": {"a": "b"}}
    )
    status, body = request(
        kube_emulator,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        manifest.encode(),
        **{"Content-Type": "application/yaml"},
    )
    assert status == 201 and body["data"] == {"a": "b"}
    replaced = yaml.safe_dump({**body, "data": {"a": "c"}})
    status, body = request(
        kube_emulator,
        "PUT",
        "/api/v1/namespaces/default/configmaps/from-yaml",
        replaced.encode(),
        **{"Content-Type": "application/yaml"},
    )
    assert status == 200 and core.read_namespaced_config_map("from-yaml", "default").data == {"a": "c"}


def test_a_list_at_a_future_resource_version_answers_504(kube_emulator: KubeEmulator) -> None:
    future = kube_emulator.resource_version + 1000
    status, body = request(kube_emulator, "GET", f"/api/v1/namespaces/default/pods?resourceVersion={future}")
    assert status == 504
    assert body["reason"] == "Timeout"
    assert body["message"] == f"Too large resource version: {future}, current: {kube_emulator.resource_version}"
    assert body["details"]["causes"] == [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}]
    status, _ = request(
        kube_emulator, "GET", f"/api/v1/namespaces/default/pods?resourceVersion={kube_emulator.resource_version}"
    )
    assert status == 200
