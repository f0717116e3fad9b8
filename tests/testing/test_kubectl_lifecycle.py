"""kubectl conformance: create namespace|configmap|secret|job, logs, wait, delete (--cascade, --wait)."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

from emu_helpers import deployment_body, pod_body
from kubectl_helpers import Kubectl

from nautilus_core.testing import KubeEmulator


def test_create_namespace_configmap_secret_job(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    assert "namespace/shop created" in kubectl.out("create", "namespace", "shop")
    kubectl.out("create", "configmap", "cfg", "-n", "shop", "--from-literal=mode=fast")
    kubectl.out("create", "secret", "generic", "db", "-n", "shop", "--from-literal=password=hunter2")
    kubectl.out("create", "job", "once", "-n", "shop", "--image=busybox", "--", "echo", "hi")

    assert kube_emulator.get("v1", "ConfigMap", "cfg", "shop")["data"] == {"mode": "fast"}  # type: ignore[index]
    secret = kube_emulator.get("v1", "Secret", "db", "shop")
    assert secret is not None and base64.b64decode(secret["data"]["password"]) == b"hunter2"
    job = kube_emulator.get("batch/v1", "Job", "once", "shop")
    assert job is not None
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
    printed = kubectl.out("get", "jobs", "-n", "shop").splitlines()
    assert printed[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    duplicate = kubectl.run("create", "namespace", "shop", check=False)
    assert duplicate.returncode == 1 and 'namespaces "shop" already exists' in duplicate.stderr


def test_create_job_from_the_shipped_cronjob(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    kubectl.out("create", "namespace", "nautilus")
    kubectl.out("apply", "-f", str(Path(__file__).resolve().parents[2] / "deploy/inventory/cronjob.yaml"))
    kubectl.out("create", "job", "manual-sync", "-n", "nautilus", "--from=cronjob/nautilus-inventory")
    job = kube_emulator.get("batch/v1", "Job", "manual-sync", "nautilus")
    assert job is not None
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"


def test_logs(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    kube_emulator.create(
        {**pod_body("web", containers=("app", "proxy")), "metadata": {"name": "web", "namespace": "default"}}
    )
    kube_emulator.set_logs("default", "web", "app", "one\ntwo\nthree\n")
    kube_emulator.set_logs("default", "web", "app", "crashed\n", previous=True)
    assert kubectl.out("logs", "web", "-c", "app") == "one\ntwo\nthree\n"
    assert kubectl.out("logs", "web", "-c", "app", "--tail=1") == "three\n"
    assert kubectl.out("logs", "web", "-c", "app", "--previous") == "crashed\n"
    ambiguous = kubectl.run("logs", "web", "-c", "nope", check=False)
    assert ambiguous.returncode == 1


def test_wait_for_condition_and_delete(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    body = deployment_body("web")
    body["metadata"]["namespace"] = "default"
    kube_emulator.create(body)

    def become_available() -> None:
        time.sleep(0.5)
        kube_emulator.patch(
            "apps/v1",
            "Deployment",
            "web",
            {"status": {"conditions": [{"type": "Available", "status": "True"}]}},
            namespace="default",
        )

    thread = threading.Thread(target=become_available)
    thread.start()
    waited = kubectl.out("wait", "--for=condition=Available", "deployment/web", "--timeout=10s")
    thread.join()
    assert "deployment.apps/web condition met" in waited
    timed_out = kubectl.run(
        "wait", "--for=condition=Progressing", "deployment/web", "--timeout=1s", check=False
    )
    assert timed_out.returncode == 1 and "timed out" in timed_out.stderr

    assert 'deployment.apps "web" deleted' in kubectl.out(
        "delete", "deployment", "web", "--wait", "--cascade=foreground"
    )
    assert kube_emulator.get("apps/v1", "Deployment", "web", "default") is None
    missing = kubectl.run("delete", "deployment", "web", check=False)
    assert missing.returncode == 1 and 'deployments.apps "web" not found' in missing.stderr


def test_delete_waits_for_finalizers(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    kube_emulator.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "held", "namespace": "default", "finalizers": ["example.com/hold"]},
        }
    )
    quick = kubectl.run("delete", "configmap", "held", "--wait=false")
    assert 'configmap "held" deleted' in quick.stdout
    held = kube_emulator.get("v1", "ConfigMap", "held", "default")
    assert held is not None and held["metadata"]["deletionTimestamp"]

    def release() -> None:
        time.sleep(0.5)
        kube_emulator.patch(
            "v1", "ConfigMap", "held", {"metadata": {"finalizers": None}}, namespace="default"
        )

    thread = threading.Thread(target=release)
    thread.start()
    started = time.monotonic()
    kubectl.out("delete", "configmap", "held", "--wait", "--timeout=10s")
    thread.join()
    assert time.monotonic() - started >= 0.4
    assert kube_emulator.get("v1", "ConfigMap", "held", "default") is None
    kubectl.out("wait", "--for=delete", "configmap/held", "--timeout=2s")


def test_delete_orphan_keeps_dependents(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    body = deployment_body("web")
    body["metadata"]["namespace"] = "default"
    owner = kube_emulator.create(body)
    reference = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
        "uid": owner["metadata"]["uid"],
    }
    kube_emulator.create(
        {
            **pod_body("web-1"),
            "metadata": {"name": "web-1", "namespace": "default", "ownerReferences": [reference]},
        }
    )
    kubectl.out("delete", "deployment", "web", "--cascade=orphan")
    assert kube_emulator.get("apps/v1", "Deployment", "web", "default") is None
    assert kube_emulator.get("v1", "Pod", "web-1", "default") is not None
