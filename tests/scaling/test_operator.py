"""The intelligent-scaling operator under the controller runtime: the emulator holds the Deployments and
IntelligentScaling objects, a real Prometheus answers the queries."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from nautilus_core.api import Nautilus
from nautilus_core.config import load_settings
from nautilus_core.kube import RetryPolicy, connect
from nautilus_core.plugins import build_plugin_manager
from nautilus_core.scaling.model import GROUPS, PLURAL, VERSION
from nautilus_core.testing import until as wait_until


def until(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    return wait_until(predicate, timeout, what, poll=0.1)


def _start(db_url, emu, kubeconfig):
    emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    app = Nautilus(load_settings(database_url=db_url, reconcile_interval=1.0, metrics_port=0, health_check_port=0),
                   plugins=build_plugin_manager(entry_points=True, disable={"eks", "gke", "aks", "oda"}))
    kube = connect(kubeconfig=str(kubeconfig), retry=RetryPolicy.off(), timeout=(2.0, 5.0))
    assert app.install_scaling_crds(kube) == [f"{PLURAL}.{g}" for g in GROUPS]
    runtime = app.controller(["intelligent-scaling"], kube=kube, leader_election=False, watch_silence_timeout=5.0)
    runtime.start()
    return runtime, kube, app


@pytest.fixture
def operator(engine, db_url, kube_emulator, kubeconfig_path):
    runtime, kube, app = _start(db_url, kube_emulator, kubeconfig_path)
    yield runtime
    runtime.stop()
    kube.close()
    app.close()


@pytest.fixture
def simulated(engine, db_url, kube_cluster, tmp_path):
    """The operator against the emulator's simulated cluster: pods follow the Deployments' scale."""
    runtime, kube, app = _start(db_url, kube_cluster, kube_cluster.write_kubeconfig(tmp_path / "kubeconfig"))
    yield kube_cluster
    runtime.stop()
    kube.close()
    app.close()


def deployment(emu, name, replicas=1, labels=None):
    emu.create({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "namespace": "shop", "labels": labels or {"app": "web"}},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                         "template": {"metadata": {"labels": {"app": name}},
                                      "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})


def scaler(emu, name, query, threshold, condition="gt", group="nautilus.io", **spec):
    emu.create({"apiVersion": f"{group}/{VERSION}", "kind": "IntelligentScaling",
                "metadata": {"name": name, "namespace": "shop"},
                "spec": {"namespace": "shop", "target_labels": {"app": "web"}, "min_replicas": 1,
                         "max_replicas": 5, "polling_interval": 1,
                         "metrics_config": {"prometheus_url": spec.pop("url"),
                                            "metrics": [{"query": query, "threshold": threshold,
                                                         "condition": condition}]}} | spec})


def replicas(emu, name="web"):
    return emu.get("apps/v1", "deployments", name, "shop")["spec"]["replicas"]


def status(emu, name, group="nautilus.io"):
    return (emu.get(f"{group}/{VERSION}", PLURAL, name, "shop") or {}).get("status") or {}


def test_a_rising_request_rate_scales_the_deployment_up(operator, kube_emulator, prometheus):
    deployment(kube_emulator, "web", replicas=1)
    scaler(kube_emulator, "web", "sum(rate(http_requests_total[5s]))", 10, url=prometheus.url)
    for _ in range(40):
        prometheus.exporter.requests.inc(200)
        if replicas(kube_emulator) > 1:
            break
        time.sleep(0.25)
    assert replicas(kube_emulator) > 1
    st = until(lambda: (s := status(kube_emulator, "web")).get("desiredReplicas", 0) > 1 and s, what="status")
    assert st["lastDecision"]["engine"] == "threshold" and st["targets"] == 1
    assert st["targetReplicas"][0]["name"] == "web" and st["targetReplicas"][0]["desiredReplicas"] > 1
    ready = {c["type"]: c["status"] for c in st["conditions"]}
    assert ready["Ready"] == "True" and ready["AbleToScale"] == "True"
    events = [e for e in kube_emulator.list("v1", "events", namespace="shop") if e["reason"] == "Scaled"]
    assert events and "scaled 1 Deployment(s) from" in events[0]["message"]


def test_an_lt_condition_scales_up_when_the_metric_is_low_and_dry_run_changes_nothing(operator, kube_emulator,
                                                                                     prometheus):
    deployment(kube_emulator, "web", replicas=2)
    scaler(kube_emulator, "idle", "vector(1)", 10, condition="lt", url=prometheus.url, dry_run=True)
    st = until(lambda: (s := status(kube_emulator, "idle")).get("lastDecision") and s, what="a decision")
    assert st["desiredReplicas"] == 3 and st["lastDecision"]["dryRun"] is True
    time.sleep(1.5)
    assert replicas(kube_emulator) == 2                               # dry run: untouched
    events = [e["message"] for e in kube_emulator.list("v1", "events", namespace="shop")]
    assert any(m.startswith("dry run: would scale 1 Deployment(s) from 2 to 3") for m in events)


def test_bad_queries_and_prometheus_down_scale_nothing(operator, kube_emulator, prometheus):
    deployment(kube_emulator, "web", replicas=2)
    scaler(kube_emulator, "broken", "sum(rate(", 10, url=prometheus.url)
    st = until(lambda: (s := status(kube_emulator, "broken")).get("conditions") and s, what="condition")
    ready = {c["type"]: c for c in st["conditions"]}
    assert ready["Ready"]["status"] == "False" and ready["Ready"]["reason"] == "InvalidMetric"
    assert "bad_data" in st["lastError"]
    kube_emulator.delete(f"nautilus.io/{VERSION}", PLURAL, "broken", namespace="shop")
    scaler(kube_emulator, "down", "vector(500)", 10, url="http://127.0.0.1:1")
    st = until(lambda: (s := status(kube_emulator, "down")).get("lastDecision") and s, what="a decision")
    assert "holding 2 replicas" in st["lastDecision"]["reason"] and replicas(kube_emulator) == 2
    assert operator.metrics.sample("nimbusguard_operator_health", {"component": "prometheus"}) == 0


def test_min_above_max_is_a_condition_naming_the_field(operator, kube_emulator, prometheus):
    deployment(kube_emulator, "web", replicas=2)
    scaler(kube_emulator, "inverted", "vector(1)", 10, url=prometheus.url, min_replicas=9, max_replicas=3)
    st = until(lambda: (s := status(kube_emulator, "inverted")).get("conditions") and s, what="condition")
    assert "min_replicas (9) is greater than max_replicas (3)" in st["lastError"]
    assert replicas(kube_emulator) == 2


def test_a_deployment_selected_twice_is_refused_naming_the_other(operator, kube_emulator, prometheus):
    deployment(kube_emulator, "web", replicas=1)
    scaler(kube_emulator, "first", "vector(500)", 10, url=prometheus.url)
    scaler(kube_emulator, "second", "vector(500)", 10, url=prometheus.url, group="nimbusguard.io")
    st = until(lambda: (s := status(kube_emulator, "first")).get("conditions") and s, what="condition")
    able = {c["type"]: c for c in st["conditions"]}["AbleToScale"]
    assert able["status"] == "False" and "nimbusguard.io/shop/second" in able["message"]
    assert replicas(kube_emulator) == 1


def test_without_its_crd_the_operator_refuses_to_start_naming_it_and_the_default_run_skips_it(
        db_url, engine, kube_emulator, kubeconfig_path):
    import os
    import subprocess
    import sys

    env = os.environ | {"DATABASE_URL": db_url, "KUBECONFIG": str(kubeconfig_path),
                        "NAUTILUS_DISABLE_PLUGINS": "eks,gke,aks", "ENABLE_METRICS": "false",
                        "ENABLE_HEALTH_CHECK": "false"}
    done = subprocess.run([sys.executable, "-m", "nautilus_core.cli", "controller", "run", "-r", "intelligent-scaling",
                           "--no-leader-election"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "intelligentscalings.nautilus.io" in done.stderr and "install-crd" in done.stderr
    app = Nautilus(load_settings(database_url=db_url, metrics_port=0, health_check_port=0),
                   plugins=build_plugin_manager(entry_points=False))
    kube = connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy.off())
    try:
        runtime = app.controller(kube=kube, leader_election=False)   # every registered reconciler
        assert "statefulsets" in runtime.reconcilers and "intelligent-scaling" not in runtime.reconcilers
    finally:
        kube.close()
        app.close()


def test_install_crd_through_the_cli_and_kubectl_prints_the_columns(db_url, engine, kube_emulator, kubeconfig_path,
                                                                      tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    env = os.environ | {"DATABASE_URL": db_url, "KUBECONFIG": str(kubeconfig_path),
                        "NAUTILUS_DISABLE_PLUGINS": "eks,gke,aks"}
    done = subprocess.run([sys.executable, "-m", "nautilus_core.cli", "scaling", "install-crd"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "customresourcedefinition/intelligentscalings.nautilus.io applied" in done.stdout
    kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    bad = {"apiVersion": f"nautilus.io/{VERSION}", "kind": "IntelligentScaling",
           "metadata": {"name": "bad", "namespace": "shop"},
           "spec": {"namespace": "shop", "target_labels": {"app": "web"}, "max_replicas": 0,
                    "metrics_config": {"prometheus_url": "http://p:9090", "metrics": [{"query": "q", "threshold": 1}]}}}
    kube = connect(kubeconfig=str(kubeconfig_path), retry=RetryPolicy.off())
    try:
        from nautilus_core.kube import KubeApiError
        with pytest.raises(KubeApiError) as info:                      # the generated schema validates
            kube.create(f"nautilus.io/{VERSION}", PLURAL, bad, namespace="shop")
        assert info.value.status == 422 and "spec.max_replicas" in str(info.value)
        good = bad | {"metadata": {"name": "web", "namespace": "shop"}, "spec": bad["spec"] | {"max_replicas": 4}}
        created = kube.create(f"nautilus.io/{VERSION}", PLURAL, good, namespace="shop")
        assert created["spec"]["engine"] == "threshold" and created["spec"]["polling_interval"] == 30  # defaults
    finally:
        kube.close()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    out = subprocess.run([kubectl, "--kubeconfig", str(kubeconfig_path), "--request-timeout=10s", "get",
                          "intelligentscalings.nautilus.io", "-n", "shop"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[0].split()
    assert header[:6] == ["NAME", "TARGETS", "CURRENT", "DESIRED", "ENGINE", "LAST"]
    assert out.stdout.splitlines()[1].split()[0] == "web"


def test_hpa_scales_up_with_load_and_back_down_after_the_stabilization_window(operator, kube_emulator, prometheus):
    deployment(kube_emulator, "web", replicas=1)
    scaler(kube_emulator, "web", "sum(rate(http_requests_total[3s]))", 10, url=prometheus.url, engine="hpa",
           behavior={"scaleDown": {"stabilizationWindowSeconds": 3}})
    deadline = time.monotonic() + 30
    while replicas(kube_emulator) == 1 and time.monotonic() < deadline:
        prometheus.exporter.requests.inc(100)
        time.sleep(0.2)
    assert replicas(kube_emulator) > 1                                 # load: scaled up within a poll or two
    up_at = time.monotonic()
    until(lambda: replicas(kube_emulator) == 1, timeout=40, what="scaled back down once the load is gone")
    assert time.monotonic() - up_at >= 3                               # not before the stabilization window
    st = status(kube_emulator, "web")
    assert st["lastDecision"]["engine"] == "hpa" and st["scaleEvents"]


def test_after_n_metric_failures_the_fallback_replicas_hold(operator, kube_emulator):
    deployment(kube_emulator, "web", replicas=4)
    scaler(kube_emulator, "web", "vector(1)", 10, url="http://127.0.0.1:1",
           fallback={"failure_threshold": 2, "replicas": 2})
    until(lambda: replicas(kube_emulator) == 2, timeout=30, what="the fallback replicas")
    st = status(kube_emulator, "web")
    assert "fallback of 2 replicas" in st["lastDecision"]["reason"] and st["metricFailures"] >= 2


def test_a_deployment_also_targeted_by_an_hpa_is_refused_and_no_target_is_reported(operator, kube_emulator,
                                                                                  prometheus):
    deployment(kube_emulator, "web", replicas=1)
    kube_emulator.create({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                          "metadata": {"name": "web", "namespace": "shop"},
                          "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                                   "minReplicas": 1, "maxReplicas": 3}})
    scaler(kube_emulator, "web", "vector(500)", 10, url=prometheus.url)
    st = until(lambda: (s := status(kube_emulator, "web")).get("conditions") and s, what="condition")
    able = {c["type"]: c for c in st["conditions"]}["AbleToScale"]
    assert able["status"] == "False" and "HorizontalPodAutoscaler shop/web" in able["message"]
    assert replicas(kube_emulator) == 1
    scaler(kube_emulator, "nothing", "vector(500)", 10, url=prometheus.url, target_labels={"app": "none"})
    st = until(lambda: (s := status(kube_emulator, "nothing")).get("conditions") and s, what="condition")
    assert "no Deployment in namespace shop matches" in st["lastError"]


def test_in_a_simulated_cluster_ready_pods_follow_the_scale(simulated, prometheus):
    deployment(simulated, "web", replicas=1)
    scaler(simulated, "web", "vector(500)", 100, url=prometheus.url, max_replicas=3)
    until(lambda: replicas(simulated) == 3, timeout=30, what="scaled to the maximum")
    running = until(lambda: len([p for p in simulated.list("v1", "pods", namespace="shop")
                                 if p["status"].get("phase") == "Running"]) == 3, timeout=30, what="3 pods")
    assert running
    st = until(lambda: (s := status(simulated, "web")).get("targetReplicas", [{}])[0].get("readyReplicas") == 3
               and s, timeout=30, what="status shows the ready pods")
    assert {c["type"]: c["status"] for c in st["conditions"]}["ScalingLimited"] == "True"   # max reached


def test_run_alone_the_operator_serves_the_seed_metrics_on_8000_and_ready(db_url, engine, kube_emulator,
                                                                          kubeconfig_path, prometheus):
    import os
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8000)) == 0:
            pytest.skip("port 8000 is taken on this machine")
    kube_emulator.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    env = {k: v for k, v in os.environ.items() if k != "METRICS_PORT"} | {
        "DATABASE_URL": db_url, "KUBECONFIG": str(kubeconfig_path), "NAUTILUS_DISABLE_PLUGINS": "eks,gke,aks",
        "HEALTH_CHECK_PORT": "0", "NAUTILUS_KUBE_RETRIES": "0"}
    subprocess.run([sys.executable, "-m", "nautilus_core.cli", "scaling", "install-crd"], env=env, check=True,
                   capture_output=True, timeout=60)
    deployment(kube_emulator, "web", replicas=1)
    scaler(kube_emulator, "web", "vector(500)", 100, url=prometheus.url)
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "controller", "run", "-r",
                             "intelligent-scaling", "--no-leader-election"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def metrics() -> str:
            try:
                with urllib.request.urlopen("http://127.0.0.1:8000/metrics", timeout=2) as answer:
                    return answer.read().decode()
            except OSError:
                return ""
        text = until(lambda: (t := metrics()) and "nimbusguard_decisions_total" in t and
                     'action="scale_up"' in t and t, timeout=30, what="the seed's metrics on 8000")
        assert 'nimbusguard_current_replicas{deployment="web",namespace="shop"}' in text
        assert 'nimbusguard_operator_health{component="prometheus"} 1.0' in text
        assert replicas(kube_emulator) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_allowed_to_the_operator_installs_its_crds_at_start(db_url, engine, kube_emulator, kubeconfig_path):
    import os
    import signal
    import subprocess
    import sys

    env = os.environ | {"DATABASE_URL": db_url, "KUBECONFIG": str(kubeconfig_path),
                        "NAUTILUS_DISABLE_PLUGINS": "eks,gke,aks", "ENABLE_METRICS": "false",
                        "ENABLE_HEALTH_CHECK": "false"}
    bad = subprocess.run([sys.executable, "-m", "nautilus_core.cli", "controller", "run", "-r", "intelligent-scaling"],
                         env=env | {"NAUTILUS_SCALING_INSTALL_CRD": "maybe"}, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "NAUTILUS_SCALING_INSTALL_CRD" in bad.stderr
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_core.cli", "controller", "run", "-r",
                             "intelligent-scaling", "--no-leader-election"],
                            env=env | {"NAUTILUS_SCALING_INSTALL_CRD": "true"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        until(lambda: kube_emulator.get("apiextensions.k8s.io/v1", "customresourcedefinitions",
                                        "intelligentscalings.nautilus.io"), timeout=30, what="CRD installed")
        until(lambda: kube_emulator.get("apiextensions.k8s.io/v1", "customresourcedefinitions",
                                        "intelligentscalings.nimbusguard.io"), timeout=30, what="seed CRD installed")
        time.sleep(1.0)
        assert proc.poll() is None                                       # and it keeps running
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_prometheus_credentials_come_from_a_secret_and_stay_out_of_status(operator, kube_emulator):
    import base64
    import http.server
    import threading

    seen = []

    class Fake(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            body = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[0,"500"]}]}}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kube_emulator.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "prom", "namespace": "shop"},
                              "data": {"token": base64.b64encode(b"s3cret-bearer").decode()}})
        deployment(kube_emulator, "web", replicas=1)
        scaler(kube_emulator, "web", "sum(up)", 100, url=f"http://127.0.0.1:{server.server_address[1]}",
               metrics_config={"prometheus_url": f"http://127.0.0.1:{server.server_address[1]}",
                               "metrics": [{"query": "sum(up)", "threshold": 100}],
                               "auth": {"bearer_token": {"name": "prom", "key": "token"}}})
        until(lambda: replicas(kube_emulator) == 2, what="scaled with an authenticated query")
        assert seen and all(h == "Bearer s3cret-bearer" for h in seen)
        st = status(kube_emulator, "web")
        assert "s3cret" not in str(st)
        kube_emulator.patch(f"nautilus.io/{VERSION}", PLURAL, "web", {"spec": {"metrics_config": {
            "auth": {"bearer_token": {"name": "prom", "key": "missing"}}}}}, namespace="shop")
        st = until(lambda: "data.missing" in ((s := status(kube_emulator, "web")).get("lastError") or "") and s,
                   what="a missing key named")
        assert {c["type"]: c for c in st["conditions"]}["Ready"]["reason"] == "InvalidAuth"
    finally:
        server.shutdown()
        server.server_close()
