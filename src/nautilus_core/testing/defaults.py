"""Server defaults and canonical forms of the built-in kinds, so what a real server adds shows in tests.

Owns what the API server's defaulting fills in on every written object of the kinds the emulator
serves: Services (``type`` ClusterIP, an allocated ``clusterIP``/``clusterIPs`` from 10.96.0.0/12 kept
across updates, ``sessionAffinity`` None, IP family fields, port ``protocol`` and ``targetPort``, node
ports for NodePort/LoadBalancer), pod specs and pod templates (``restartPolicy``, ``dnsPolicy``,
``schedulerName``, ``terminationGracePeriodSeconds``, ``securityContext``, and per container
``imagePullPolicy`` by the image tag, ``terminationMessagePath``/``Policy``, port protocols, requests
taken from limits), Deployments (``strategy`` 25 %/25 %, ``revisionHistoryLimit``,
``progressDeadlineSeconds``), StatefulSets (``podManagementPolicy``, ``updateStrategy``,
``persistentVolumeClaimRetentionPolicy``, claim templates), DaemonSets, ReplicaSets, Jobs, CronJobs
and PVCs; and resource quantities in their canonical form (``0.5`` -> ``500m``, ``1024Mi`` -> ``1Gi``,
``1000m`` -> ``1``). Called by ``object_rules.py`` for every write that does not come from test code.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from nautilus_core.quantity import parse_quantity

Obj = dict[str, Any]
def canonical_quantity(raw: Any) -> Any:
    """The canonical string of a Kubernetes quantity (``nautilus_core.quantity``, the same rules the
    controller compares with); anything unparsable is returned unchanged."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return raw
    try:
        return parse_quantity(str(raw).strip()).canonical()
    except ValueError:
        return raw


def quantity_value(raw: Any) -> tuple[Fraction, str] | None:
    """The exact value of a quantity and its suffix family; None when it does not parse."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        parsed = parse_quantity(str(raw).strip())
    except ValueError:
        return None
    return parsed.value, parsed.family


def _quantities(values: Any) -> Any:
    if not isinstance(values, dict):
        return values
    return {key: canonical_quantity(value) for key, value in values.items()}


def _pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    tag = name.partition(":")[2]
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _container(container: Any) -> Any:
    if not isinstance(container, dict):
        return container
    result = dict(container)
    if isinstance(result.get("image"), str):
        result.setdefault("imagePullPolicy", _pull_policy(result["image"]))
    result.setdefault("terminationMessagePath", "/dev/termination-log")
    result.setdefault("terminationMessagePolicy", "File")
    resources = result.get("resources")
    if isinstance(resources, dict):
        resources = {**resources}
        for part in ("limits", "requests"):
            if part in resources:
                resources[part] = _quantities(resources[part])
        limits = resources.get("limits")
        if isinstance(limits, dict) and limits:
            resources["requests"] = {**limits, **(resources.get("requests") or {})}
        result["resources"] = resources
    else:
        result["resources"] = {}
    if isinstance(result.get("ports"), list):
        result["ports"] = [
            {"protocol": "TCP", **port} if isinstance(port, dict) else port for port in result["ports"]
        ]
    return result


def pod_spec(spec: Any) -> Any:
    """A PodSpec with the server's defaults."""
    if not isinstance(spec, dict):
        return spec
    result = {
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30,
        "securityContext": {},
        **spec,
    }
    for field in ("containers", "initContainers"):
        if isinstance(result.get(field), list):
            result[field] = [_container(c) for c in result[field]]
    return result


def _template(spec: Obj) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        spec["template"] = {**template, "spec": pod_spec(template.get("spec"))}


def _claim(claim: Any) -> Any:
    if not isinstance(claim, dict):
        return claim
    spec = dict(claim.get("spec") or {})
    spec.setdefault("volumeMode", "Filesystem")
    resources = spec.get("resources")
    if isinstance(resources, dict):
        spec["resources"] = {k: _quantities(v) for k, v in resources.items()}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", **claim, "spec": spec}


def _service(obj: Obj, old: Obj | None, rng: random.Random) -> None:
    spec = dict(obj.get("spec") or {})
    old_spec = (old or {}).get("spec") or {}
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if kind != "ExternalName":
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
            spec.setdefault("clusterIPs", old_spec.get("clusterIPs") or [old_spec["clusterIP"]])
        if not spec.get("clusterIP"):
            spec["clusterIP"] = f"10.{96 + rng.randrange(16)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    old_ports = {p.get("port"): p for p in old_spec.get("ports") or [] if isinstance(p, dict)}
    ports = []
    for port in spec.get("ports") or []:
        if not isinstance(port, dict):
            ports.append(port)
            continue
        port = {"protocol": "TCP", **port}
        port.setdefault("targetPort", port.get("port"))
        if kind in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
            port["nodePort"] = old_ports.get(port.get("port"), {}).get("nodePort") or 30000 + rng.randrange(
                2768
            )
        ports.append(port)
    if "ports" in spec:
        spec["ports"] = ports
    obj["spec"] = spec


def _workload(kind: str, spec: Obj) -> None:
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        spec.setdefault("replicas", 1)
    if kind != "ReplicaSet":
        spec.setdefault("revisionHistoryLimit", 10)
    if kind == "Deployment":
        spec.setdefault(
            "strategy",
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        )
        spec.setdefault("progressDeadlineSeconds", 600)
    elif kind == "StatefulSet":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
        )
        if isinstance(spec.get("volumeClaimTemplates"), list):
            spec["volumeClaimTemplates"] = [_claim(c) for c in spec["volumeClaimTemplates"]]
    elif kind == "DaemonSet":
        spec.setdefault(
            "updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
        )
    _template(spec)


def _job(spec: Obj) -> None:
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    _template(spec)


def apply_defaults(group: str, kind: str, obj: Obj, old: Obj | None, rng: random.Random) -> None:
    """Fill the server defaults of ``obj`` in place (top-level keys are replaced, nested ones copied)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict) and (group, kind) != ("", "Service"):
        return
    if group == "" and kind == "Service":
        _service(obj, old, rng)
    elif group == "" and kind == "Pod":
        obj["spec"] = pod_spec(spec)
    elif group == "" and kind == "PersistentVolumeClaim":
        obj["spec"] = _claim({"spec": spec})["spec"]
    elif group == "apps" and isinstance(spec, dict):
        obj["spec"] = spec = dict(spec)
        _workload(kind, spec)
    elif group == "batch" and kind == "Job" and isinstance(spec, dict):
        obj["spec"] = spec = dict(spec)
        _job(spec)
    elif group == "batch" and kind == "CronJob" and isinstance(spec, dict):
        spec = {
            "concurrencyPolicy": "Allow",
            "suspend": False,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            **spec,
        }
        job_template = spec.get("jobTemplate")
        if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
            job_spec = dict(job_template["spec"])
            _job(job_spec)
            spec["jobTemplate"] = {**job_template, "spec": job_spec}
        obj["spec"] = spec


def qos_class(spec: Any) -> str:
    """The pod's QoS class from its containers' requests and limits (Guaranteed, Burstable, BestEffort)."""
    containers = [c for c in (spec or {}).get("containers") or [] if isinstance(c, dict)]
    parts = [(c.get("resources") or {}) for c in containers]
    if not any(p.get("requests") or p.get("limits") for p in parts):
        return "BestEffort"
    for part in parts:
        limits, requests = part.get("limits") or {}, part.get("requests") or {}
        for resource in ("cpu", "memory"):
            if resource not in limits or requests.get(resource, limits[resource]) != limits[resource]:
                return "Burstable"
    return "Guaranteed"
