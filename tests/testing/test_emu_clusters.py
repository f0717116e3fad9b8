"""Several clusters (EmulatedFleet), lifecycle, thread safety and the pytest fixtures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from emu_helpers import pod_body
from kubernetes import client, config

from nautilus_core.testing import EmulatedFleet, KubeEmulator, populate


def test_fleet_kubeconfig_has_one_context_per_cluster_each_reaching_its_own(tmp_path: Path) -> None:
    with EmulatedFleet(["east", "west", "south"]) as fleet:
        for emulator in fleet:
            name = f"only-in-{emulator.name}"
            emulator.create(pod_body(name) | {"metadata": {"name": name, "namespace": "ns"}})
        path = fleet.write_kubeconfig(tmp_path / "fleet.yaml")
        contexts, current = config.list_kube_config_contexts(config_file=str(path))
        assert [c["name"] for c in contexts] == ["east", "west", "south"]
        assert current["name"] == "east"
        ports = set()
        for name in fleet.names:
            with config.new_client_from_config(config_file=str(path), context=name) as api:
                pods = client.CoreV1Api(api).list_pod_for_all_namespaces().items
                assert [p.metadata.name for p in pods] == [f"only-in-{name}"]
                ports.add(api.configuration.host)
        assert len(ports) == 3


def test_fleet_shares_one_loop_thread_and_leaves_none_behind() -> None:
    before = set(threading.enumerate())
    with EmulatedFleet(4) as fleet:
        started = set(threading.enumerate()) - before
        assert len(started) == 1  # one event loop thread for four servers
        assert fleet.names == ["cluster-1", "cluster-2", "cluster-3", "cluster-4"]
        extra = fleet.add("late")
        assert extra.running and "late" in fleet
        fleet.remove("cluster-4")
        assert len(fleet) == 4
    assert set(threading.enumerate()) - before == set()


def test_stop_frees_the_port_and_the_thread() -> None:
    before = set(threading.enumerate())
    emu = KubeEmulator().start()
    port = emu.port
    emu.stop()
    assert set(threading.enumerate()) - before == set()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more


def test_emulators_stop_in_any_order() -> None:
    first, second = KubeEmulator("a").start(), KubeEmulator("b").start()
    first.stop()
    second.stop()
    assert not first.running and not second.running


def test_python_api_is_thread_safe(kube_emulator: KubeEmulator) -> None:
    start = kube_emulator.resource_version
    def create(worker: int) -> None:
        for i in range(50):
            kube_emulator.create(
                pod_body(f"w{worker}-{i}") | {"metadata": {"name": f"w{worker}-{i}", "namespace": "ns"}}
            )

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pods = kube_emulator.list("v1", "pods", namespace="ns")
    assert len(pods) == 200
    assert len({p["metadata"]["resourceVersion"] for p in pods}) == 200
    assert kube_emulator.resource_version == start + 200


def test_kubeconfig_path_fixture_points_at_the_emulator(
    kubeconfig_path: Path, kube_emulator: KubeEmulator
) -> None:
    written = yaml.safe_load(kubeconfig_path.read_text())
    assert written["current-context"] == "emulator"
    assert written["clusters"][0]["cluster"]["server"] == kube_emulator.url


def test_kube_fleet_fixture_makes_running_fleets(
    kube_fleet: Callable[..., EmulatedFleet], client_factory: Callable[..., client.ApiClient], tmp_path: Path
) -> None:
    fleet = kube_fleet(["prod", "dev"], token="t0k3n", git_version="v1.28.9")
    populate(fleet["prod"], namespaces=1, pods_per_namespace=5, nodes=2, services=1)
    path = fleet.write_kubeconfig(tmp_path / "kc")
    prod = client.CoreV1Api(client_factory(path, "prod"))
    dev = client.CoreV1Api(client_factory(path, "dev"))
    assert len(prod.list_pod_for_all_namespaces().items) == 5
    assert dev.list_pod_for_all_namespaces().items == []
    version = client.VersionApi(client_factory(path, "dev")).get_code()
    assert version.git_version == "v1.28.9"


def test_unknown_kind_in_python_api_is_a_clear_error(kube_emulator: KubeEmulator) -> None:
    from nautilus_core.testing import ApiError

    with pytest.raises(ApiError, match="Widget"):
        kube_emulator.create({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
