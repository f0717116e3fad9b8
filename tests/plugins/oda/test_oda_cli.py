"""``nautilus oda list / test / sync / run`` in a subprocess with the seed's environment variables, against
the Kubernetes API emulator (ODA CRDs applied by kubectl) and the fake seed Component Registry."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oda_crs import exposed, v1, v1beta3

from nautilus_core.testing import until
from nautilus_oda.testing.component_registry import FakeComponentRegistry

CRDS = Path(__file__).resolve().parents[3] / "plugins" / "oda" / "src" / "nautilus_oda" / "crds"
KEY = "s3cr3t-registry-key-42"
REGISTRY = "canvas-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Env:
    def __init__(self, kubeconfig: Path, home: Path, registry: FakeComponentRegistry) -> None:
        self.kubeconfig = kubeconfig
        self.vars = {**os.environ, "KUBECONFIG": str(kubeconfig), "NAUTILUS_HOME": str(home),
                     "COMPONENT_REGISTRY_URL": registry.url, "COMPONENT_REGISTRY_API_KEY": KEY,
                     "COMPONENT_REGISTRY_NAME": REGISTRY, "COMPONENT_REGISTRY_RETRY_ATTEMPTS": "1",
                     "COMPONENT_REGISTRY_TIMEOUT": "5s", "KUBERNETES_NAMESPACE": "shop", "LOG_LEVEL": "WARNING",
                     "NAUTILUS_KUBE_RETRIES": "0"}

    def nautilus(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nautilus_core.cli", *args], capture_output=True, text=True,
                              timeout=120, env={**self.vars, **env})

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), *args], capture_output=True,
                              text=True, timeout=60, input=stdin)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def apply(self, obj: dict[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", stdin=json.dumps(obj))
        if obj.get("status"):
            kind = {"Component": "components", "ExposedAPI": "exposedapis"}[obj["kind"]]
            self.kubectl("patch", f"{kind}.oda.tmforum.org", obj["metadata"]["name"], "-n", "shop",
                         "--subresource=status", "--type=merge", "-p", json.dumps({"status": obj["status"]}))


@pytest.fixture
def registry() -> Iterator[FakeComponentRegistry]:
    with FakeComponentRegistry(api_key=KEY) as fake:
        yield fake


@pytest.fixture
def env(kube_emulator: Any, kubeconfig_path: Path, tmp_path: Path, registry: FakeComponentRegistry) -> Env:
    e = Env(kubeconfig_path, tmp_path, registry)
    e.kubectl("apply", "-f", str(CRDS))
    e.kubectl("create", "namespace", "shop")
    return e


def no_key(done: subprocess.CompletedProcess[str]) -> None:
    assert KEY not in done.stdout and KEY not in done.stderr


def test_test_passes_every_check_and_fails_each_way(env: Env, registry: FakeComponentRegistry,
                                                   kube_emulator: Any) -> None:
    done = env.nautilus("oda", "test")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["PASS", "kubernetes:"], ["PASS", "crds:"], ["PASS", "registry:"]]
    assert "components.oda.tmforum.org and exposedapis.oda.tmforum.org serve v1beta3" in lines[1]
    no_key(done)

    wrong = env.nautilus("oda", "test", COMPONENT_REGISTRY_API_KEY="not-the-key-0000")
    assert wrong.returncode == 1
    assert "FAIL  registry: the API key was refused" in wrong.stdout
    assert "PASS  kubernetes" in wrong.stdout and "not-the-key-0000" not in wrong.stdout + wrong.stderr

    other_version = env.nautilus("oda", "test", ODA_COMPONENT_VERSION="v1alpha9")
    assert other_version.returncode == 2 and "ODA_COMPONENT_VERSION" in other_version.stderr  # a config error

    registry.down()
    down = env.nautilus("oda", "test")
    assert down.returncode == 1 and "FAIL  registry: unreachable" in down.stdout
    no_key(down)
    registry.up()

    env.kubectl("delete", "crd", "exposedapis.oda.tmforum.org")
    until(lambda: env.nautilus("oda", "test").returncode == 1, 20, "the missing CRD noticed")
    missing = env.nautilus("oda", "test")
    assert "FAIL  crds: exposedapis.oda.tmforum.org not served in version v1beta3" in missing.stdout

    unreachable = env.nautilus("oda", "test", KUBECONFIG=str(env.kubeconfig.parent / "nowhere"))
    assert unreachable.returncode == 1 and "FAIL  kubernetes:" in unreachable.stdout


def test_sync_then_list_show_what_the_registry_holds(env: Env, registry: FakeComponentRegistry) -> None:
    env.apply(v1beta3("prodcat"))
    env.apply(v1("party"))
    env.apply(exposed("prodcat", "productcatalogmanagement", url="https://gw/pcm", ready=True))
    broken = v1beta3("broken")
    broken["spec"]["coreFunction"]["exposedAPIs"][0]["port"] = 99999
    env.apply(broken)

    done = env.nautilus("oda", "sync", "prodcat")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("component shop/prodcat: created (")
    row = registry.component("prodcat", REGISTRY)
    assert row is not None and registry.labels_of(row)["functionalBlock"] == "CoreCommerce"
    statuses = {a["name"]: a["status"] for a in registry.apis_of("prodcat", REGISTRY)}
    assert statuses["productcatalogmanagement"] == "ready"
    again = env.nautilus("oda", "sync", "prodcat", "--namespace", "shop")
    assert again.stdout.strip() == "component shop/prodcat: unchanged (0 registry writes)"

    bad = env.nautilus("oda", "sync", "broken")
    assert bad.returncode == 1
    assert "field 'spec.coreFunction.exposedAPIs[0].port' is 99999, outside 1..65535" in bad.stderr

    listed = env.nautilus("oda", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["prodcat"]["registry"] == "in-sync" and rows["party"]["registry"] == "missing"
    assert rows["broken"]["registry"] == "invalid" and "outside 1..65535" in rows["broken"]["error"]
    pcm = next(a for a in rows["prodcat"]["apis"] if a["name"] == "productcatalogmanagement")
    assert pcm == {"name": "productcatalogmanagement", "segment": "coreFunction", "url": "https://gw/pcm",
                   "status": "ready", "specification": ["https://example.org/TMF620.json"], "api_type": "openapi",
                   "labels": {}}
    assert rows["party"]["labels"]["version"] == "2.0.1"

    table = env.nautilus("oda", "list")
    header, *lines = table.stdout.splitlines()
    assert header.split()[:4] == ["NAMESPACE", "NAME", "VERSION", "FUNCTIONAL"]
    assert any(line.split()[:2] == ["shop", "prodcat"] and "in-sync" in line for line in lines)

    registry.down()
    blind = env.nautilus("oda", "list", "--json")
    assert blind.returncode == 0 and "warning: registry not read" in blind.stderr
    assert {r["registry"] for r in json.loads(blind.stdout)} == {"unknown", "invalid"}
    registry.up()

    env.kubectl("delete", "components.oda.tmforum.org", "prodcat", "-n", "shop")
    gone = env.nautilus("oda", "sync", "prodcat")
    assert gone.stdout.startswith("component shop/prodcat: deleted (") and registry.component("prodcat") is None
    assert registry.apis_of("prodcat") == []
    for result in (done, again, bad, listed, table, blind, gone):
        no_key(result)


def test_run_serves_metrics_and_keeps_the_registry_in_step(env: Env, registry: FakeComponentRegistry) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "oda", "run", "--no-leader-election",
                             "--grace-period", "2s"], env={**env.vars, "MONITORING_PORT": str(port),
                                                            "SYNC_INTERVAL": "1s", "LOG_LEVEL": "INFO"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        env.apply(v1beta3("prodcat"))
        until(lambda: registry.component("prodcat", REGISTRY), 30, "prodcat registered by the running collector")

        def metrics() -> str:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
                    return str(answer.read().decode())
            except OSError:
                return ""

        body = until(lambda: (m := metrics()) and "oda_collector_components_current 1.0" in m and m, 20, "metrics")
        assert "oda_collector_registry_api_calls_total" in body and "controller_runtime_reconcile_total" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            assert answer.status == 200
        env.kubectl("delete", "components.oda.tmforum.org", "prodcat", "-n", "shop")
        until(lambda: registry.component("prodcat", REGISTRY) is None, 30, "prodcat removed")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert KEY not in out and KEY not in err
