"""Cluster-level objects of the fleet generator: namespaces, nodes and services.

Owns :class:`Builder`, the generator's shared state (seeded random source, fixed clock, the list of
objects and the summary being filled) and the builders of namespaces (labelled, the last one
Terminating), nodes (Ready, NotReady, memory/disk/PID pressure, cordoned; zone and instance-type
labels, capacity, kubelet version) and services (ClusterIP, NodePort, LoadBalancer with an ingress IP
or hostname, headless). ``fleet.py`` extends it with workloads, pods, events and logs.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING, Any

from nautilus_core.testing.pod_states import Clock

if TYPE_CHECKING:
    from nautilus_core.testing.fleet import FleetSpec, FleetSummary

Obj = dict[str, Any]
NODE_STATES = ("Ready", "NotReady", "MemoryPressure", "DiskPressure", "PIDPressure", "Unschedulable")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "Headless")
_WORDS = (
    "payments",
    "checkout",
    "search",
    "catalog",
    "billing",
    "identity",
    "orders",
    "shipping",
    "analytics",
    "gateway",
    "reporting",
    "inventory",
    "notifications",
    "pricing",
    "media",
    "ledger",
)
_ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
_TYPES = (
    ("m5.xlarge", "4", "16Gi"),
    ("m5.2xlarge", "8", "32Gi"),
    ("c5.2xlarge", "8", "16Gi"),
    ("r5.xlarge", "4", "32Gi"),
)
_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
# condition type -> (reason when false, message when false, reason when true, message when true)
_PRESSURE = {
    "MemoryPressure": (
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
        "KubeletHasInsufficientMemory",
        "kubelet has insufficient memory available",
    ),
    "DiskPressure": (
        "KubeletHasNoDiskPressure",
        "kubelet has no disk pressure",
        "KubeletHasDiskPressure",
        "kubelet has disk pressure",
    ),
    "PIDPressure": (
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
        "KubeletHasInsufficientPID",
        "kubelet has insufficient PID available",
    ),
}


class Builder:
    """Shared state of one generation run, and the cluster-level builders."""

    def __init__(self, spec: FleetSpec, summary: FleetSummary, now: float) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.clock = Clock(now)
        self.objects: list[Obj] = []
        self.logs: list[tuple[str, str, str, str, bool]] = []
        self.summary = summary
        self.ip = 0

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def suffix(self, k: int) -> str:
        return "".join(self.rng.choices(_SUFFIX, k=k))

    def next_ip(self, prefix: str) -> str:
        self.ip += 1
        return f"{prefix}.{self.ip // 250 % 250}.{self.ip % 250 + 2}"

    def meta(
        self,
        name: str,
        namespace: str | None = None,
        labels: dict[str, str] | None = None,
        age: float = 86400.0,
    ) -> Obj:
        meta: Obj = {"name": name, "uid": self.uid(), "creationTimestamp": self.clock.ago(age)}
        if namespace is not None:
            meta["namespace"] = namespace
        if labels:
            meta["labels"] = labels
        return meta

    # -- namespaces and nodes ----------------------------------------------------------------------

    def namespaces(self) -> list[str]:
        names = []
        for i in range(self.spec.namespaces):
            word = _WORDS[i % len(_WORDS)]
            names.append(word if i < len(_WORDS) else f"{word}-{i // len(_WORDS)}")
        for i, name in enumerate(names):
            labels = {
                "team": self.rng.choice(("core", "growth", "platform", "data")),
                "environment": self.rng.choice(("prod", "prod", "staging", "dev")),
            }
            terminating = i == len(names) - 1 and len(names) > 1
            meta = self.meta(name, labels=labels, age=self.rng.randint(7, 400) * 86400)
            phase = "Active"
            if terminating:
                meta["deletionTimestamp"] = self.clock.ago(self.rng.randint(30, 3600))
                phase = "Terminating"
                self.summary.terminating_namespace = name
            self.objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": meta,
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": phase},
                }
            )
        self.summary.namespaces = names
        return names

    def node_states(self) -> list[str]:
        n = self.spec.nodes
        special = list(NODE_STATES[1:]) if self.spec.cover_all_states else []
        if n >= len(NODE_STATES):
            return ["Ready", *special] + ["Ready"] * (n - len(NODE_STATES))
        return ["Ready", *special][:n]

    def nodes(self) -> list[tuple[str, str]]:
        placed: list[tuple[str, str]] = []
        for i, state in enumerate(self.node_states()):
            zone = _ZONES[i % len(_ZONES)]
            itype, cpu, memory = self.rng.choice(_TYPES)
            name = f"ip-10-0-{i // 250}-{i % 250 + 10}.eu-west-1.compute.internal"
            ip = f"10.0.{i // 250}.{i % 250 + 10}"
            when = self.clock.ago(self.rng.randint(60, 86400))
            heartbeat = self.clock.ago(self.rng.randint(5, 40))
            pressure = {kind: state == kind for kind in ("MemoryPressure", "DiskPressure", "PIDPressure")}
            conditions = [
                {
                    "type": kind,
                    "status": "True" if on else "False",
                    "lastHeartbeatTime": heartbeat,
                    "lastTransitionTime": when,
                    "reason": _PRESSURE[kind][2 if on else 0],
                    "message": _PRESSURE[kind][3 if on else 1],
                }
                for kind, on in pressure.items()
            ]
            ready = state != "NotReady"
            conditions.append(
                {
                    "type": "Ready",
                    "status": "True" if ready else "Unknown",
                    "lastHeartbeatTime": heartbeat,
                    "lastTransitionTime": when,
                    "reason": "KubeletReady" if ready else "NodeStatusUnknown",
                    "message": "kubelet is posting ready status"
                    if ready
                    else "Kubelet stopped posting node status.",
                }
            )
            taints = []
            if state == "NotReady":
                taints.append(
                    {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": when}
                )
            elif state in pressure:
                taints.append(
                    {
                        "key": f"node.kubernetes.io/{state.replace('Pressure', '').lower()}-pressure",
                        "effect": "NoSchedule",
                        "timeAdded": when,
                    }
                )
            spec: Obj = {"podCIDR": f"10.244.{i}.0/24", "providerID": f"aws:///{zone}/i-{self.suffix(17)}"}
            if state == "Unschedulable":
                spec["unschedulable"] = True
                taints.append(
                    {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": when}
                )
            if taints:
                spec["taints"] = taints
            labels = {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": itype,
                "topology.kubernetes.io/zone": zone,
                "topology.kubernetes.io/region": "eu-west-1",
                "node-role.kubernetes.io/worker": "",
            }
            capacity = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "104845292Ki"}
            allocatable = {
                "cpu": f"{int(cpu) * 1000 - 90}m",
                "memory": memory.replace("Gi", "") + "000Mi",
                "pods": "110",
                "ephemeral-storage": "95551679124",
            }
            info = {
                "architecture": "amd64",
                "bootID": self.uid(),
                "containerRuntimeVersion": "containerd://1.7.11",
                "kernelVersion": "5.10.210-201.852.amzn2.x86_64",
                "kubeProxyVersion": self.spec.kubelet_version,
                "kubeletVersion": self.spec.kubelet_version,
                "machineID": self.suffix(32),
                "operatingSystem": "linux",
                "osImage": "Amazon Linux 2",
                "systemUUID": self.uid(),
            }
            self.objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": self.meta(name, labels=labels, age=self.rng.randint(1, 90) * 86400),
                    "spec": spec,
                    "status": {
                        "capacity": capacity,
                        "allocatable": allocatable,
                        "conditions": conditions,
                        "nodeInfo": info,
                        "addresses": [
                            {"type": "InternalIP", "address": ip},
                            {"type": "Hostname", "address": name},
                        ],
                        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    },
                }
            )
            self.summary.nodes[name] = state
            placed.append((name, ip))
        return placed

    def services(self, apps: list[tuple[str, str]]) -> None:
        """``spec.services`` services selecting the apps [(namespace, app)]; every type once if room."""
        if not apps:
            return
        balancers = 0
        for i in range(self.spec.services):
            namespace, app = apps[i % len(apps)]
            if self.spec.cover_all_states and i < len(SERVICE_TYPES):
                kind = SERVICE_TYPES[i]
            else:
                kind = self.rng.choices(SERVICE_TYPES, weights=(70, 10, 10, 10))[0]
            name = app if i < len(apps) else f"{app}-svc-{i}"
            port: Obj = {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}
            spec: Obj = {
                "type": "ClusterIP" if kind == "Headless" else kind,
                "selector": {"app": app},
                "ports": [port],
                "sessionAffinity": "None",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster",
            }
            if kind == "Headless":
                spec["clusterIP"], spec["clusterIPs"] = "None", ["None"]
            else:
                ip = self.next_ip("10.96")
                spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
            status: Obj = {"loadBalancer": {}}
            if kind in ("NodePort", "LoadBalancer"):
                port["nodePort"] = 30000 + i % 2767
                spec["externalTrafficPolicy"] = "Cluster"
            if kind == "LoadBalancer":
                spec["allocateLoadBalancerNodePorts"] = True
                ingress = (
                    {"ip": f"203.0.113.{balancers % 250 + 1}", "ipMode": "VIP"}
                    if balancers % 2 == 0
                    else {
                        "hostname": f"a{self.suffix(31)}-{self.rng.randint(10**9, 10**10 - 1)}"
                        f".eu-west-1.elb.amazonaws.com"
                    }
                )
                status = {"loadBalancer": {"ingress": [ingress]}}
                balancers += 1
            self.objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": self.meta(name, namespace, {"app": app}),
                    "spec": spec,
                    "status": status,
                }
            )
            self.summary.services[(namespace, name)] = kind
