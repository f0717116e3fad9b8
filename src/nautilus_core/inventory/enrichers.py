"""Built-in enrichers: Kubernetes version, namespaces with pod counts by kubectl status,
services, nodes. Each reads raw JSON pages through ``KubeClient`` and keeps only flat facts
(parsing rules in ``inventory.parse``).

Each declares the columns it fills (``contributes``) of the built-in kinds (``inventory.kinds``).
Registered by ``inventory.builtin``; run by the inventory pipeline for every cluster. An object
that cannot be read is counted in ``Facts.problems`` under a label such as
``pod:malformed-status.reason`` (with a few of the objects' names in ``Facts.problem_objects``)
instead of failing the cluster or hiding its namespace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nautilus_core.inventory import parse
from nautilus_core.types import ClusterRef, Facts

if TYPE_CHECKING:  # the client module imports ``kubernetes``: keep `nautilus --help` fast
    from nautilus_core.kube import KubeClient


class VersionEnricher:
    name = "version"

    def enrich(self, cluster: ClusterRef, kube: KubeClient) -> Facts:
        version = kube.version()
        git = version.get("gitVersion") if isinstance(version, dict) else None
        if not isinstance(git, str) or not git or "\x00" in git or len(git) > parse.MAX_NAME:
            return Facts(problems={"version:malformed-gitVersion": 1} if git else {})
        return Facts(kubernetes_version=git)


class NamespaceEnricher:
    """Namespaces with phase and labels, and pods counted per namespace by kubectl STATUS."""

    name = "namespaces"
    contributes = {"namespaces": ("phase", "labels", "pod_counts", "created_at")}

    def enrich(self, cluster: ClusterRef, kube: KubeClient) -> Facts:
        problems = parse.Problems()
        pods = kube.list("v1", "pods")
        found = parse.namespaces(kube.list("v1", "namespaces"), pods, problems)
        return Facts(namespaces=tuple(found), **problems.as_facts())


class ServiceEnricher:
    name = "services"
    contributes = {"services": ("type", "cluster_ip", "ports", "external_address", "labels")}

    def enrich(self, cluster: ClusterRef, kube: KubeClient) -> Facts:
        problems = parse.Problems()
        services = parse.collect(kube.list("v1", "services"), "service", parse.service, problems)
        return Facts(services=tuple(services), **problems.as_facts())


class NodeEnricher:
    name = "nodes"
    contributes = {"nodes": ("ready", "memory_pressure", "disk_pressure", "pid_pressure", "unschedulable",
                             "kubelet_version", "instance_type", "zone", "capacity", "allocatable", "labels")}

    def enrich(self, cluster: ClusterRef, kube: KubeClient) -> Facts:
        problems = parse.Problems()
        nodes = parse.collect(kube.list("v1", "nodes"), "node", parse.node, problems)
        return Facts(nodes=tuple(nodes), **problems.as_facts())
