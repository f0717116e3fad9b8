"""The resource types a cluster serves beyond pods and workloads: discovered, created, read, listed and
deleted through their typed clients; an unserved resource answers 404 like the real server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import urllib3
import yaml
from kubernetes import client

from nautilus_core.testing import KubeEmulator

KUBECTL = "/usr/bin/kubectl"
CONTAINERS = [{"name": "run", "image": "busybox:1.36"}]


def test_every_added_kind_round_trips_through_its_typed_client(api_client: client.ApiClient) -> None:
    core, batch = client.CoreV1Api(api_client), client.BatchV1Api(api_client)
    rbac, policy = client.RbacAuthorizationV1Api(api_client), client.PolicyV1Api(api_client)
    networking, hpa = client.NetworkingV1Api(api_client), client.AutoscalingV2Api(api_client)
    storage, events = client.StorageV1Api(api_client), client.EventsV1Api(api_client)
    apps = client.AppsV1Api(api_client)
    labels = {"app": "agent"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": CONTAINERS}}
    job_template = {"spec": {"restartPolicy": "Never", "containers": CONTAINERS}}
    rule = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    subject = [{"kind": "ServiceAccount", "name": "robot", "namespace": "default"}]
    made = [
        core.create_namespaced_service_account("default", {"metadata": {"name": "robot"}}),
        apps.create_namespaced_daemon_set(
            "default",
            {"metadata": {"name": "agent"}, "spec": {"selector": {"matchLabels": labels}, "template": template}},
        ),
        batch.create_namespaced_job("default", {"metadata": {"name": "once"}, "spec": {"template": job_template}}),
        batch.create_namespaced_cron_job(
            "default",
            {
                "metadata": {"name": "nightly"},
                "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": job_template}}},
            },
        ),
        rbac.create_namespaced_role("default", {"metadata": {"name": "reader"}, "rules": rule}),
        rbac.create_namespaced_role_binding(
            "default",
            {
                "metadata": {"name": "reader"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
                "subjects": subject,
            },
        ),
        rbac.create_cluster_role({"metadata": {"name": "nautilus:reader"}, "rules": rule}),
        rbac.create_cluster_role_binding(
            {
                "metadata": {"name": "nautilus:reader"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "nautilus:reader"},
                "subjects": subject,
            }
        ),
        policy.create_namespaced_pod_disruption_budget(
            "default", {"metadata": {"name": "agent"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}}}
        ),
        networking.create_namespaced_ingress(
            "default",
            {
                "metadata": {"name": "web"},
                "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
            },
        ),
        hpa.create_namespaced_horizontal_pod_autoscaler(
            "default",
            {
                "metadata": {"name": "agent"},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "agent"},
                    "minReplicas": 1,
                    "maxReplicas": 5,
                },
            },
        ),
        storage.create_storage_class({"metadata": {"name": "fast"}, "provisioner": "example.com/fast"}),
        events.create_namespaced_event(
            "default",
            {
                "metadata": {"name": "agent.1"},
                "eventTime": "2026-01-01T00:00:00.000000Z",
                "reason": "Started",
                "action": "Start",
                "reportingController": "nautilus",
                "reportingInstance": "nautilus-1",
                "type": "Normal",
            },
        ),
    ]
    assert all(obj.metadata.uid and obj.metadata.resource_version for obj in made)
    assert [r.metadata.name for r in rbac.list_cluster_role().items] == ["nautilus:reader"]
    assert batch.read_namespaced_cron_job("nightly", "default").spec.schedule == "0 3 * * *"
    assert [j.metadata.name for j in batch.list_job_for_all_namespaces().items] == ["once"]
    assert hpa.read_namespaced_horizontal_pod_autoscaler("agent", "default").spec.max_replicas == 5
    assert isinstance(storage.delete_storage_class("fast"), client.V1StorageClass)
    assert isinstance(core.delete_namespaced_service_account("robot", "default"), client.V1ServiceAccount)
    rbac.delete_namespaced_role("reader", "default")
    assert rbac.list_namespaced_role("default").items == []


def test_an_unserved_resource_answers_404(kube_emulator: KubeEmulator) -> None:
    http = urllib3.PoolManager()
    for path in ("/apis/example.com/v1/namespaces/default/gadgets", "/apis/batch/v2/jobs", "/api/v1/bindings"):
        answer = http.request("GET", kube_emulator.url + path)
        assert answer.status == 404, path
        assert json.loads(answer.data)["reason"] == "NotFound"


@pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed at /usr/bin/kubectl")
def test_kubectl_discovers_the_added_resources(kubeconfig_path: Path) -> None:
    env = {"KUBECONFIG": str(kubeconfig_path), "PATH": "/usr/bin:/bin", "HOME": str(kubeconfig_path.parent)}
    listed = subprocess.run(
        [KUBECTL, "api-resources", "-o", "name"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    served = set(listed.stdout.split())
    assert {
        "jobs.batch",
        "cronjobs.batch",
        "daemonsets.apps",
        "replicasets.apps",
        "serviceaccounts",
        "roles.rbac.authorization.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io",
        "events.events.k8s.io",
        "poddisruptionbudgets.policy",
        "ingresses.networking.k8s.io",
        "horizontalpodautoscalers.autoscaling",
        "storageclasses.storage.k8s.io",
    } <= served
    job = subprocess.run(
        [KUBECTL, "create", "job", "once", "--image=busybox:1.36", "--", "true"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert job.returncode == 0, job.stderr
    assert job.stdout.strip() == "job.batch/once created"


@pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed at /usr/bin/kubectl")
def test_every_shipped_manifest_applies(kubeconfig_path: Path, kube_emulator: KubeEmulator) -> None:
    deploy = Path(__file__).resolve().parents[2] / "deploy"
    env = {"KUBECONFIG": str(kubeconfig_path), "PATH": "/usr/bin:/bin", "HOME": str(kubeconfig_path.parent)}

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60)

    documents = {path: [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
                 for path in sorted(deploy.rglob("*.yaml"))}
    # a rendered manifest (deploy/podwatch) names its namespaces; the others are applied with -n
    pinned = {path for path, docs in documents.items() if any(d["metadata"].get("namespace") for d in docs)}
    namespaces = {d["metadata"]["namespace"] for docs in documents.values() for d in docs
                  if d["metadata"].get("namespace")}
    for namespace in sorted({"nautilus", *namespaces}):
        assert kubectl("create", "namespace", namespace).returncode == 0
    loose = [arg for path in documents if path not in pinned for arg in ("-f", str(path))]
    named = [arg for path in sorted(pinned) for arg in ("-f", str(path))]
    # --validate=false: the OpenAPI documents kubectl validates against are not served here
    for extra in ((), ("--server-side",)):
        for args in ((*loose, "-n", "nautilus"), tuple(named)):
            if args and args[0] == "-f":
                applied = kubectl("apply", "--validate=false", *extra, *args)
                assert applied.returncode == 0, applied.stderr
    shipped = sorted((doc["kind"], doc["metadata"]["name"]) for docs in documents.values() for doc in docs)
    stored = sorted(
        (obj["kind"], obj["metadata"]["name"])
        for obj in kube_emulator.objects()
        if obj["metadata"].get("namespace") in (None, "nautilus", *namespaces) and obj["kind"] != "Namespace"
    )
    assert stored == shipped
