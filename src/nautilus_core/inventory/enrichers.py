"""Built-in enrichers: Kubernetes version, namespaces with pod counts by kubectl status,
services, nodes. Each reads raw JSON pages through ``KubeClient`` and keeps only flat facts.

Registered by ``inventory.builtin``; run by the inventory pipeline for every cluster. An object
that cannot be read (missing name, wrong types) is counted in ``Facts.problems`` under a label
such as ``pod:missing-metadata.name`` instead of failing the cluster.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from nautilus_core.podstatus import pod_status
from nautilus_core.types import ClusterRef, Facts, NamespaceFacts, NodeFacts, ServiceFacts

if TYPE_CHECKING:  # the client module imports ``kubernetes``: keep `nautilus --help` fast
    from nautilus_core.kube import KubeClient

T = TypeVar("T")


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    if not isinstance(name, str) or not name:
        raise ValueError("missing-metadata.name")
    return name


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


def _collect(items: Iterable[Mapping[str, Any]], kind: str, parse: Callable[[Mapping[str, Any]], T],
             problems: Counter[str]) -> list[T]:
    out = []
    for item in items:
        try:
            out.append(parse(item))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            label = str(exc) if isinstance(exc, ValueError) and str(exc).startswith("missing") else "malformed"
            problems[f"{kind}:{label}"] += 1
    return out


class VersionEnricher:
    name = "version"

    def enrich(self, cluster: ClusterRef, kube: KubeClient) -> Facts:
        version = kube.version()
        return Facts(kubernetes_version=str(version.get("gitVersion") or "") or None)


class NamespaceEnricher:
    """Namespaces with phase and labels, and pods counted per namespace by kubectl STATUS."""

    name = "namespaces"

    def enrich(self, cluster: ClusterRef, kube: KubeClient) -> Facts:
        problems: Counter[str] = Counter()
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for pod in kube.list("v1", "pods"):
            try:
                namespace = (pod.get("metadata") or {}).get("namespace")
                if not isinstance(namespace, str) or not namespace:
                    raise ValueError("missing-metadata.namespace")
                counts[namespace][pod_status(pod).status] += 1
            except (ValueError, TypeError, AttributeError) as exc:
                label = str(exc) if isinstance(exc, ValueError) else "malformed"
                problems[f"pod:{label}"] += 1

        def parse(ns: Mapping[str, Any]) -> NamespaceFacts:
            name = _name(ns)
            return NamespaceFacts(
                name=name, phase=(ns.get("status") or {}).get("phase"), labels=_labels(ns),
                pod_counts=dict(sorted(counts.pop(name, Counter()).items())),
                created_at=(ns.get("metadata") or {}).get("creationTimestamp"),
            )

        namespaces = _collect(kube.list("v1", "namespaces"), "namespace", parse, problems)
        # Pods in a namespace the list did not return (created between the two lists).
        for name, leftover in counts.items():
            namespaces.append(NamespaceFacts(name=name, pod_counts=dict(sorted(leftover.items()))))
        return Facts(namespaces=tuple(namespaces), problems=dict(problems))


def _service(svc: Mapping[str, Any]) -> ServiceFacts:
    name = _name(svc)
    spec = svc.get("spec") or {}
    ports = [{k: port[k] for k in ("name", "port", "protocol", "targetPort", "nodePort") if k in port}
             for port in spec.get("ports") or ()]
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ()
    external = ",".join(str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname"))
    if not external and spec.get("externalIPs"):
        external = ",".join(spec["externalIPs"])
    return ServiceFacts(
        namespace=str((svc.get("metadata") or {}).get("namespace") or ""), name=name,
        type=spec.get("type"), cluster_ip=spec.get("clusterIP"), ports=tuple(ports),
        external_address=external or None, labels=_labels(svc),
    )


class ServiceEnricher:
    name = "services"

    def enrich(self, cluster: ClusterRef, kube: KubeClient) -> Facts:
        problems: Counter[str] = Counter()
        services = _collect(kube.list("v1", "services"), "service", _service, problems)
        return Facts(services=tuple(services), problems=dict(problems))


def _node(node: Mapping[str, Any]) -> NodeFacts:
    name = _name(node)
    status = node.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or ()}
    labels = _labels(node)
    ready = conditions.get("Ready")
    return NodeFacts(
        name=name,
        # kubectl prints NotReady for False and Unknown (kubelet stopped reporting) alike
        ready=None if ready is None else ready == "True",
        memory_pressure=conditions.get("MemoryPressure") == "True",
        disk_pressure=conditions.get("DiskPressure") == "True",
        pid_pressure=conditions.get("PIDPressure") == "True",
        unschedulable=bool((node.get("spec") or {}).get("unschedulable")),
        kubelet_version=(status.get("nodeInfo") or {}).get("kubeletVersion"),
        instance_type=labels.get("node.kubernetes.io/instance-type")
        or labels.get("beta.kubernetes.io/instance-type"),
        zone=labels.get("topology.kubernetes.io/zone") or labels.get("failure-domain.beta.kubernetes.io/zone"),
        capacity={str(k): str(v) for k, v in (status.get("capacity") or {}).items()},
        allocatable={str(k): str(v) for k, v in (status.get("allocatable") or {}).items()},
        labels=labels,
    )


class NodeEnricher:
    name = "nodes"

    def enrich(self, cluster: ClusterRef, kube: KubeClient) -> Facts:
        problems: Counter[str] = Counter()
        nodes = _collect(kube.list("v1", "nodes"), "node", _node, problems)
        return Facts(nodes=tuple(nodes), problems=dict(problems))
