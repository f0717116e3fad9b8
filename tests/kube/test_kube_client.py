"""``nautilus_core.kube``: connecting, verbs, pagination, errors and retries, against the emulator."""

from __future__ import annotations

import re
import time

import pytest

from nautilus_core import ConfigError
from nautilus_core.kube import (
    Conflict,
    KubeTransientError,
    NotFound,
    RetryPolicy,
    Unauthorized,
    connect,
    list_contexts,
)
from nautilus_core.testing import KubeEmulator

OFF = RetryPolicy.off()


def configmap(name, labels=None, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}},
            "data": data or {}}


def test_kubeconfig_contexts_each_reach_their_own_cluster(kube_fleet, tmp_path):
    fleet = kube_fleet(["blue", "green"])
    path = fleet.write_kubeconfig(tmp_path / "kubeconfig")
    fleet["green"].create(configmap("only-in-green"), namespace="default")
    assert [c.name for c in list_contexts(str(path))] == ["blue", "green"]
    assert list_contexts(str(path))[1].server == fleet["green"].url
    with connect(kubeconfig=str(path), context="green", retry=OFF) as green, \
            connect(kubeconfig=str(path), context="blue", retry=OFF) as blue:
        assert green.get("v1", "configmaps", "only-in-green", "default")["metadata"]["name"] == "only-in-green"
        with pytest.raises(NotFound):
            blue.get("v1", "configmaps", "only-in-green", "default")


def test_missing_context_and_file_are_config_errors(kubeconfig_path, tmp_path):
    with pytest.raises(ConfigError, match="nope"):
        connect(kubeconfig=str(kubeconfig_path), context="nope")
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        list_contexts(str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="in-cluster"):
        connect(in_cluster=True)


def test_host_and_token_and_token_provider():
    with KubeEmulator(token="s3cret") as emu:
        with connect(host=emu.url, token="s3cret", retry=OFF) as kube:
            assert kube.version()["gitVersion"] == "v1.30.2"
        with connect(host=emu.url, token="wrong", retry=OFF) as kube, pytest.raises(Unauthorized) as err:
            kube.version()
        assert "wrong" not in str(err.value) and "s3cret" not in str(err.value)
        calls = []

        def fresh_token():
            calls.append(1)
            return "s3cret"

        with connect(host=emu.url, token_provider=fresh_token, retry=OFF) as kube:
            kube.version()
            kube.version()
        assert len(calls) >= 2  # asked before every request: expiring cloud tokens are refreshed


def test_paginated_list_with_selectors(kube_emulator, kubeconfig_path):
    kube_emulator.load([configmap(f"cm-{i:04d}", {"tier": "web" if i % 3 else "db"}) | {
        "metadata": {"name": f"cm-{i:04d}", "namespace": "default", "labels": {"tier": "web" if i % 3 else "db"}}}
        for i in range(1200)])
    with connect(kubeconfig=str(kubeconfig_path), retry=OFF) as kube:
        pages = list(kube.list_pages("v1", "configmaps", namespace="default", limit=500))
        assert [len(p.items) for p in pages] == [500, 500, 200]
        assert pages[0].continue_token and not pages[-1].continue_token
        names = [i["metadata"]["name"] for p in pages for i in p.items]
        assert len(set(names)) == 1200
        db = list(kube.list("v1", "configmaps", label_selector="tier=db", limit=100))
        assert len(db) == 400 and all(i["metadata"]["labels"]["tier"] == "db" for i in db)
        assert len(list(kube.list("v1", "configmaps", label_selector="tier notin (db,web)"))) == 0
    limits = [r.query.get("limit") for r in kube_emulator.requests.filter(method="GET",
                                                                          path="/api/v1/namespaces/default/configmaps")]
    assert "500" in limits


def test_verbs_and_error_mapping(kube_emulator, kubeconfig_path):
    with connect(kubeconfig=str(kubeconfig_path), retry=OFF) as kube:
        created = kube.create("v1", "configmaps", configmap("app", data={"a": "1"}), namespace="default")
        assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"]
        with pytest.raises(Conflict):
            kube.create("v1", "configmaps", configmap("app"), namespace="default")
        stale = dict(created)
        kube.patch("v1", "configmaps", "app", {"data": {"a": "2"}}, namespace="default")
        with pytest.raises(Conflict):
            kube.replace("v1", "configmaps", stale | {"data": {"a": "3"}}, namespace="default")
        applied = kube.apply("v1", "configmaps", configmap("app", {"owner": "nautilus"}, {"a": "4"}),
                             namespace="default")
        assert applied["data"]["a"] == "4" and applied["metadata"]["labels"]["owner"] == "nautilus"
        assert kube_emulator.requests.filter(method="PATCH")[-1].query["fieldManager"] == "nautilus"
        kube.delete("v1", "configmaps", "app", namespace="default")
        with pytest.raises(NotFound):
            kube.get("v1", "configmaps", "app", namespace="default")


def test_pod_logs_by_container_and_tail(kube_emulator, kubeconfig_path):
    kube_emulator.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
                          "spec": {"containers": [{"name": "app", "image": "a"}, {"name": "proxy", "image": "p"}]}})
    kube_emulator.set_logs("shop", "web", "app", "one\ntwo\nthree\n")
    kube_emulator.set_logs("shop", "web", "proxy", "proxy line\n")
    with connect(kubeconfig=str(kubeconfig_path), retry=OFF) as kube:
        assert kube.logs("shop", "web", container="app", tail_lines=2) == "two\nthree\n"
        assert kube.logs("shop", "web", container="proxy") == "proxy line\n"


def test_transient_errors_are_retried_then_raised(kube_emulator, kubeconfig_path):
    fault = kube_emulator.inject(method="GET", path="/version", status=503, times=2)
    with connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy(attempts=3, base=0.01)) as kube:
        assert kube.version()["gitVersion"]
    assert fault.hits == 2
    kube_emulator.inject(method="GET", path="/version", status=500, times=5)
    with connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy(attempts=2, base=0.01)) as kube, \
            pytest.raises(KubeTransientError) as err:
        kube.version()
    assert err.value.status == 500


def test_retry_after_is_honoured(kube_emulator, kubeconfig_path):
    kube_emulator.inject(method="GET", path="/version", status=429, headers={"Retry-After": "1"}, times=1)
    with connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy(attempts=3, base=0.01)) as kube:
        started = time.monotonic()
        kube.version()
        assert time.monotonic() - started >= 1.0


def test_permanent_errors_are_not_retried(kube_emulator, kubeconfig_path):
    kube_emulator.inject(method="GET", path=re.compile("configmaps/x$"), status=403, times=None)
    with connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy(attempts=5, base=0.01)) as kube, \
            pytest.raises(Unauthorized):
        kube.get("v1", "configmaps", "x", "default")
    assert len(kube_emulator.requests.filter(path=re.compile("configmaps/x$"))) == 1


def test_unreachable_and_hanging_servers_are_transient(kube_emulator, kubeconfig_path):
    with connect(kubeconfig=str(kubeconfig_path), retry=OFF, timeout=(0.5, 0.5)) as kube:
        with kube_emulator.unreachable("refuse"), pytest.raises(KubeTransientError):
            kube.version()
        with kube_emulator.unreachable("hang"), pytest.raises(KubeTransientError):
            kube.version()
        assert kube.version()["gitVersion"]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-5", "soon", "1e400", "", "  "])
def test_an_unusable_retry_after_counts_as_absent(kube_emulator, kubeconfig_path, value):
    kube_emulator.inject(method="GET", path="/version", status=429, headers={"Retry-After": value}, times=1)
    with connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy(attempts=3, base=0.01, max_wait=0.5)) as kube:
        started = time.monotonic()
        assert kube.version()["gitVersion"]
        assert time.monotonic() - started < 0.5  # the exponential wait (0.01 s), not max_wait or a crash
    kube_emulator.inject(method="GET", path="/version", status=503, headers={"Retry-After": value}, times=5)
    with connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy(attempts=2, base=0.01)) as kube, \
            pytest.raises(KubeTransientError) as err:
        kube.version()
    assert err.value.retry_after is None


def test_retry_after_as_an_http_date_is_honoured(kube_emulator, kubeconfig_path):
    from email.utils import formatdate

    kube_emulator.inject(method="GET", path="/version", status=503,
                         headers={"Retry-After": formatdate(time.time() + 2, usegmt=True)}, times=1)
    with connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy(attempts=3, base=0.01)) as kube:
        started = time.monotonic()
        kube.version()
        assert time.monotonic() - started >= 0.9  # HTTP dates have 1 s resolution
    kube_emulator.inject(method="GET", path="/version", status=503,
                         headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, times=5)
    with connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy(attempts=2, base=0.01)) as kube, \
            pytest.raises(KubeTransientError) as err:
        kube.version()
    assert err.value.retry_after == 0.0  # a date in the past: retry at once
