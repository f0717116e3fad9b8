"""Fault injection, outages, bearer tokens and the request journal, as the real client sees them."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import urllib3
from emu_helpers import pod_body
from kubernetes import client
from kubernetes.client import ApiException

from nautilus_core.testing import KubeEmulator


def test_500_once_then_success(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    fault = kube_emulator.inject(method="GET", path="/api/v1/namespaces", status=500, times=1)
    with pytest.raises(ApiException) as caught:
        core.list_namespace()
    assert caught.value.status == 500
    assert json.loads(caught.value.body)["kind"] == "Status"
    assert core.list_namespaced_pod("default").items == []
    assert (fault.hits, fault.active) == (1, False)


def test_429_with_retry_after_is_visible_to_the_client(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    kube_emulator.inject(path=re.compile(r"/pods$"), status=429, headers={"Retry-After": "7"})
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod("default")
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "7"
    assert json.loads(caught.value.body)["reason"] == "TooManyRequests"


def test_fault_filters_method_and_query(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    kube_emulator.inject(method="POST", status=503, times=None)
    kube_emulator.inject(path="/pods", query={"watch": "true"}, status=500, times=None)
    assert core.list_namespaced_pod("default").items == []  # neither a POST nor a watch
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod("default", pod_body("x"))
    assert caught.value.status == 503
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod("default", watch=True, _preload_content=False)
    assert caught.value.status == 500


def test_custom_body_delay_and_cancel(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    with kube_emulator.inject(
        path="/namespaces", status=403, times=None, body={"kind": "Status", "code": 403, "message": "nope"}
    ) as fault:
        for _ in range(2):
            with pytest.raises(ApiException) as caught:
                core.list_namespace()
            assert json.loads(caught.value.body)["message"] == "nope"
    assert fault.hits == 2 and not fault.active
    assert core.list_namespaced_pod("default").items == []  # cancelled on leaving the block
    kube_emulator.inject(path="/namespaces", status=None, delay=0.3)
    started = time.monotonic()
    assert core.list_namespaced_pod("default").items == []
    assert time.monotonic() - started >= 0.3


def test_token_is_required_when_configured(
    tmp_path: Path, client_factory: Callable[..., client.ApiClient]
) -> None:
    with KubeEmulator(token="s3cret") as emu:
        good = client.CoreV1Api(client_factory(emu.write_kubeconfig(tmp_path / "good")))
        none = client.CoreV1Api(client_factory(emu.write_kubeconfig(tmp_path / "none", user_token="")))
        wrong = client.CoreV1Api(client_factory(emu.write_kubeconfig(tmp_path / "wrong", user_token="guess")))
        assert good.list_namespaced_pod("default").items == []
        for api in (none, wrong):
            with pytest.raises(ApiException) as caught:
                api.list_namespace()
            assert caught.value.status == 401
            assert json.loads(caught.value.body)["reason"] == "Unauthorized"
        emu.token = "rotated"
        with pytest.raises(ApiException) as caught:
            good.list_namespace()
        assert caught.value.status == 401


@pytest.mark.parametrize("mode", ["refuse", "drop"])
def test_unreachable_then_back(kube_emulator: KubeEmulator, core: client.CoreV1Api, mode: str) -> None:
    assert core.list_namespaced_pod("default").items == []  # a keep-alive connection now exists
    with kube_emulator.unreachable(mode):
        for _ in range(2):  # both the pooled connection and a fresh one fail
            with pytest.raises((urllib3.exceptions.HTTPError, ConnectionError)):
                core.list_namespace(_request_timeout=2)
    assert core.list_namespaced_pod("default").items == []


def test_hanging_server_times_the_client_out(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    outage = kube_emulator.unreachable("hang")
    try:
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.HTTPError):
            core.list_namespace(_request_timeout=0.5)
        assert time.monotonic() - started < 2
    finally:
        outage.restore()
    assert core.list_namespaced_pod("default").items == []


def test_journal_records_requests_and_can_prove_no_writes(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    core.list_namespaced_pod("default", label_selector="app=web", limit=5)
    assert kube_emulator.requests.writes == []
    first = kube_emulator.requests[0]
    assert (first.method, first.path) == ("GET", "/api/v1/namespaces/default/pods")
    assert first.query == {"labelSelector": "app=web", "limit": "5"}
    core.create_namespaced_pod("default", pod_body("x"))
    assert [(r.method, r.path) for r in kube_emulator.requests.writes] == [
        ("POST", "/api/v1/namespaces/default/pods")
    ]
    kube_emulator.requests.clear()
    assert len(kube_emulator.requests) == 0
