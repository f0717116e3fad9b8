"""kubectl conformance: apply (client-side, strict validation, CRDs, the shipped manifests), replace, explain."""

from __future__ import annotations

from pathlib import Path

import yaml
from kubectl_helpers import Kubectl

from nautilus_core.testing import KubeEmulator

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: example/app:1
          env: [{name: A, value: "1"}, {name: B, value: "2"}]
          ports: [{containerPort: 8080}]
        - name: sidecar
          image: example/sidecar:1
"""

WIDGET_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, kind: Widget, shortNames: [wd], categories: [all]}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      additionalPrinterColumns:
        - {name: Size, type: integer, jsonPath: .spec.size}
        - {name: Color, type: string, jsonPath: .spec.color}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {type: integer, minimum: 1, description: How big the widget is.}
                color: {type: string, default: blue}
"""


def manifests() -> list[dict]:
    docs = []
    for path in sorted(DEPLOY.rglob("*.yaml")):
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def test_apply_every_shipped_manifest(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    shipped = manifests()
    assert shipped, "deploy/ ships manifests"
    # a rendered manifest (deploy/podwatch) names its own namespaces: they exist before it is applied
    for namespace in sorted({"nautilus", *(d["metadata"]["namespace"] for d in shipped
                                           if d["metadata"].get("namespace"))}):
        kubectl.out("create", "namespace", namespace)

    first = kubectl.out("apply", "-R", "-f", str(DEPLOY))
    assert first.count(" created") == len(shipped), first
    for doc in shipped:
        meta = doc["metadata"]
        stored = kube_emulator.get(doc["apiVersion"], doc["kind"], meta["name"], meta.get("namespace"))
        assert stored is not None, f"{doc['kind']}/{meta['name']} was not stored"
        assert "kubectl.kubernetes.io/last-applied-configuration" in stored["metadata"]["annotations"]

    again = kubectl.out("apply", "-R", "-f", str(DEPLOY))
    assert again.count(" unchanged") == len(shipped), again
    kubectl.out("apply", "-R", "-f", str(DEPLOY), "--server-side")


def test_client_side_apply_merges_lists_by_their_keys(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    assert "deployment.apps/web created" in kubectl.out("apply", "-f", "-", stdin=DEPLOYMENT)
    # someone else adds a container; the next apply keeps it (merged by name, not replaced)
    kube_emulator.patch(
        "apps/v1",
        "Deployment",
        "web",
        {"spec": {"template": {"spec": {"containers": [{"name": "debug", "image": "busybox"}]}}}},
        namespace="default",
        patch_type="strategic",
    )
    changed = DEPLOYMENT.replace("example/app:1", "example/app:2").replace(', {name: B, value: "2"}', "")
    assert "deployment.apps/web configured" in kubectl.out("apply", "-f", "-", stdin=changed)
    stored = kube_emulator.get("apps/v1", "Deployment", "web", "default")
    assert stored is not None
    containers = {c["name"]: c for c in stored["spec"]["template"]["spec"]["containers"]}
    assert sorted(containers) == ["app", "debug", "sidecar"]
    assert containers["app"]["image"] == "example/app:2"
    assert containers["app"]["env"] == [{"name": "A", "value": "1"}]
    assert containers["app"]["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]  # protocol: server default


def test_apply_validates_strictly_by_default(kubectl: Kubectl) -> None:
    bogus = DEPLOYMENT.replace("replicas: 2", "replicas: 2\n  bogus: true")
    refused = kubectl.run("apply", "-f", "-", stdin=bogus, check=False)
    assert refused.returncode == 1
    assert 'strict decoding error: unknown field "spec.bogus"' in refused.stderr

    warned = kubectl.run("apply", "--validate=warn", "-f", "-", stdin=bogus)
    assert 'Warning: unknown field "spec.bogus"' in warned.stderr
    kubectl.out("apply", "--validate=false", "-f", "-", stdin=bogus)


def test_apply_a_crd_then_its_objects(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    kubectl.out("apply", "-f", "-", stdin=WIDGET_CRD)
    kubectl.out("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s")
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n"
    kubectl.out("apply", "-f", "-", stdin=widget)
    printed = kubectl.out("get", "wd")
    assert printed.splitlines()[0].split() == ["NAME", "SIZE", "COLOR"]
    assert printed.splitlines()[1].split() == ["w1", "3", "blue"]
    assert "widget.example.com/w1" in kubectl.out("get", "all")  # the CRD puts it in the "all" category

    refused = kubectl.run("apply", "-f", "-", stdin=widget.replace("size: 3", "size: 0"), check=False)
    assert refused.returncode == 1
    # kubectl rewrites the 422 Status from its details: The <kind> "<name>" is invalid: <causes>
    assert 'The Widget "w1" is invalid: spec.size: Invalid value: 0' in refused.stderr
    unknown = kubectl.run(
        "apply", "-f", "-", stdin=widget.replace("size: 3", "size: 3, shape: round"), check=False
    )
    assert 'unknown field "spec.shape"' in unknown.stderr

    explained = kubectl.out("explain", "widgets.spec.size")
    assert "How big the widget is." in explained
    kubectl.out("delete", "crd", "widgets.example.com")
    gone = kubectl.run("get", "widgets", check=False)
    # kubectl's discovery cache still knows the resource, so the server's 404 is what it reports
    assert gone.returncode == 1
    assert "the server could not find the requested resource" in gone.stderr


def test_replace_and_explain_builtin(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    kubectl.out("create", "-f", "-", stdin=DEPLOYMENT)
    live = yaml.safe_load(kubectl.out("get", "deployment", "web", "-o", "yaml"))
    live["spec"]["replicas"] = 5
    assert "deployment.apps/web replaced" in kubectl.out("replace", "-f", "-", stdin=yaml.safe_dump(live))
    stale = {**live, "metadata": {**live["metadata"], "resourceVersion": "1"}}
    conflict = kubectl.run("replace", "-f", "-", stdin=yaml.safe_dump(stale), check=False)
    assert "the object has been modified" in conflict.stderr
    stored = kube_emulator.get("apps/v1", "Deployment", "web", "default")
    assert stored is not None and stored["spec"]["replicas"] == 5

    explained = kubectl.out("explain", "deployment.spec.replicas")
    assert "Number of desired pods" in explained
    assert "FIELD: replicas <integer>" in explained


def test_diff_and_server_dry_run_change_nothing(kube_emulator: KubeEmulator, kubectl: Kubectl) -> None:
    kubectl.out("apply", "-f", "-", stdin=DEPLOYMENT)
    before = kube_emulator.resource_version
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 3")
    diff = kubectl.run("diff", "-f", "-", stdin=changed, check=False)
    assert diff.returncode == 1, diff.stderr  # 1: there are differences
    assert "-  replicas: 2\n+  replicas: 3" in diff.stdout
    assert kubectl.run("diff", "-f", "-", stdin=DEPLOYMENT, check=False).returncode == 0
    assert "(server dry run)" in kubectl.out("apply", "--dry-run=server", "-f", "-", stdin=changed)
    kubectl.out("apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", "-", stdin=changed)
    assert kube_emulator.resource_version == before
    stored = kube_emulator.get("apps/v1", "Deployment", "web", "default")
    assert stored is not None and stored["spec"]["replicas"] == 2
