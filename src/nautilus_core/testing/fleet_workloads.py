"""Workloads of the fleet generator: controllers, their pods, Warning events and container logs.

Owns :class:`Workloads` (extending ``fleet_infra.Builder``): the mix of pod states over the whole
cluster, apps as Deployments with their ReplicaSets or as StatefulSets (shared container templates,
sometimes a sidecar or an init container), Job-owned pods for the completed state, one Warning event
per failing pod, and the logs of every container that ran (previous-instance logs with a stack trace
for crash-looping ones). Called by ``fleet.generate``.
"""

from __future__ import annotations

from typing import Any

from nautilus_core.testing.fleet_infra import Builder
from nautilus_core.testing.fleet_logs import container_log
from nautilus_core.testing.pod_states import POD_STATES, PodContext, build_pod

Obj = dict[str, Any]
_APPS = ("api", "worker", "web", "cache", "db", "queue", "scheduler", "auth", "frontend", "indexer")
_INIT = [
    {
        "name": "wait-for-db",
        "image": "busybox:1.36",
        "command": ["sh", "-c", "until nc -z db 5432; do sleep 2; done"],
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "resources": {},
    }
]
_MOUNTS = [
    {
        "name": "kube-api-access",
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        "readOnly": True,
    }
]
_VOLUMES = [
    {
        "name": "kube-api-access",
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            ],
        },
    }
]
_EVENTS = {  # state -> (reason, message template, component)
    "running-unready": (
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
        "kubelet",
    ),
    "crashloop": ("BackOff", "Back-off restarting failed container {container} in pod {pod}", "kubelet"),
    "oomkilled": ("BackOff", "Back-off restarting failed container {container} in pod {pod}", "kubelet"),
    "image-pull-backoff": ("Failed", "Error: ImagePullBackOff", "kubelet"),
    "err-image-pull": ("Failed", 'Failed to pull image "{image}": not found', "kubelet"),
    "init-error": ("BackOff", "Back-off restarting failed container wait-for-db in pod {pod}", "kubelet"),
    "creating-stuck": (
        "FailedMount",
        'MountVolume.SetUp failed for volume "config" : configmap "{pod}-config" not found',
        "kubelet",
    ),
    "unschedulable": ("FailedScheduling", "{scheduling}", "default-scheduler"),
    "evicted": ("Evicted", "The node was low on resource: memory.", "kubelet"),
}


class Workloads(Builder):
    """The workload builders (see the module docstring)."""

    def pod_states(self) -> list[str]:
        total = self.spec.namespaces * self.spec.pods_per_namespace
        unknown = set(self.spec.state_weights) - set(POD_STATES)
        if unknown:
            raise ValueError(f"unknown pod states {sorted(unknown)}; known: {sorted(POD_STATES)}")
        ids = list(self.spec.state_weights)
        states = (
            self.rng.choices(ids, weights=[self.spec.state_weights[i] for i in ids], k=total) if ids else []
        )
        if self.spec.cover_all_states and total >= len(POD_STATES):
            for i, state in enumerate(POD_STATES):
                states[i * total // len(POD_STATES)] = state
        return states

    def containers(self, namespace: str, app: str, base: str, java: bool) -> list[Obj]:
        """The container list shared by all pods of one app (sometimes with a log-shipper sidecar)."""
        image = f"registry.example.com/{namespace}/{app}:1.{self.rng.randint(0, 40)}.{self.rng.randint(0, 9)}"
        main = {
            "name": base,
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "env": [
                {"name": "LOG_LEVEL", "value": "info"},
                {"name": "JAVA_OPTS" if java else "PYTHONUNBUFFERED", "value": "-Xmx512m" if java else "1"},
            ],
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
            "readinessProbe": {
                "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
                "periodSeconds": 10,
                "timeoutSeconds": 1,
                "successThreshold": 1,
                "failureThreshold": 3,
            },
            "volumeMounts": _MOUNTS,
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        }
        containers = [main]
        if self.rng.random() < 0.25:
            containers.append(
                {
                    "name": "log-shipper",
                    "image": "fluent/fluent-bit:3.0.4",
                    "resources": {},
                    "imagePullPolicy": "IfNotPresent",
                    "volumeMounts": _MOUNTS,
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            )
        return containers

    def app(self, namespace: str, index: int, nodes: list[tuple[str, str]], states: list[str]) -> str:
        """One app in ``namespace`` with a pod per entry of ``states``: its controller objects and pods."""
        base = _APPS[index % len(_APPS)]
        app = base if index < len(_APPS) else f"{base}-{index // len(_APPS)}"
        java = self.rng.random() < 0.4
        containers = self.containers(namespace, app, base, java)
        init = _INIT if self.rng.random() < 0.3 else []
        kind = "StatefulSet" if self.rng.random() < 0.2 else "Deployment"
        template_hash = self.suffix(10)
        owner_meta = self.meta(app, namespace, {"app": app}, age=self.rng.randint(2, 200) * 86400)
        workload_owner: Obj | None = None
        labels: dict[str, str] = {"app": app}
        if kind == "Deployment":
            rs_name = f"{app}-{template_hash}"
            labels = {"app": app, "pod-template-hash": template_hash}
            rs_meta = self.meta(rs_name, namespace, labels, age=self.rng.randint(1, 30) * 86400)
            rs_meta["ownerReferences"] = [self._owner("apps/v1", "Deployment", owner_meta)]
            workload_owner = self._owner("apps/v1", "ReplicaSet", rs_meta)
        else:
            workload_owner = self._owner("apps/v1", "StatefulSet", owner_meta)
        ready = 0
        for k, state in enumerate(states):
            if state == "completed":
                job = f"{app}-report-{self.suffix(8)}"
                job_meta = {"name": job, "uid": self.uid()}
                pod_labels = {
                    "app": app,
                    "job-name": job,
                    "batch.kubernetes.io/job-name": job,
                    "batch.kubernetes.io/controller-uid": job_meta["uid"],
                }
                owner, name = self._owner("batch/v1", "Job", job_meta), f"{job}-{self.suffix(5)}"
            elif kind == "Deployment":
                owner, name, pod_labels = workload_owner, f"{rs_name}-{self.suffix(5)}", labels
            else:
                name = f"{app}-{k}"
                pod_labels = {
                    "app": app,
                    "controller-revision-hash": f"{app}-{template_hash}",
                    "statefulset.kubernetes.io/pod-name": name,
                    "apps.kubernetes.io/pod-index": str(k),
                }
                owner = workload_owner
            self.pod(namespace, name, state, pod_labels, owner, containers, init, nodes, java)
            ready += state in ("running", "terminating")
        replicas = sum(1 for state in states if state != "completed")
        template = {
            "metadata": {"labels": labels},
            "spec": {"containers": containers, "restartPolicy": "Always"},
        }
        if kind == "Deployment":
            self.objects.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": rs_meta,
                    "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template},
                    "status": {
                        "replicas": replicas,
                        "fullyLabeledReplicas": replicas,
                        "readyReplicas": ready,
                        "availableReplicas": ready,
                        "observedGeneration": 1,
                    },
                }
            )
            self.objects.append(self._deployment(owner_meta, app, replicas, ready, template))
        else:
            self.objects.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "metadata": owner_meta,
                    "spec": {
                        "replicas": replicas,
                        "serviceName": app,
                        "selector": {"matchLabels": {"app": app}},
                        "template": template,
                        "podManagementPolicy": "OrderedReady",
                        "updateStrategy": {"type": "RollingUpdate"},
                    },
                    "status": {
                        "replicas": replicas,
                        "readyReplicas": ready,
                        "currentReplicas": replicas,
                        "updatedReplicas": replicas,
                        "availableReplicas": ready,
                        "observedGeneration": 1,
                        "collisionCount": 0,
                        "currentRevision": f"{app}-{template_hash}",
                        "updateRevision": f"{app}-{template_hash}",
                    },
                }
            )
        return app

    def _owner(self, api_version: str, kind: str, meta: Obj) -> Obj:
        return {
            "apiVersion": api_version,
            "kind": kind,
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def _deployment(self, meta: Obj, app: str, replicas: int, ready: int, template: Obj) -> Obj:
        when = self.clock.ago(self.rng.randint(60, 86400))
        available = ready >= max(1, replicas // 2)
        conditions = [
            {
                "type": "Available",
                "status": "True" if available else "False",
                "lastUpdateTime": when,
                "lastTransitionTime": when,
                "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                "message": "Deployment has minimum availability."
                if available
                else "Deployment does not have minimum availability.",
            },
            {
                "type": "Progressing",
                "status": "True",
                "lastUpdateTime": when,
                "lastTransitionTime": when,
                "reason": "NewReplicaSetAvailable",
                "message": f'ReplicaSet "{app}" has successfully progressed.',
            },
        ]
        status: Obj = {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": conditions,
        }
        if replicas > ready:
            status["unavailableReplicas"] = replicas - ready
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": app}},
                "template": template,
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                },
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
            },
            "status": status,
        }

    def pod(
        self,
        namespace: str,
        name: str,
        state: str,
        labels: dict[str, str],
        owner: Obj | None,
        containers: list[Obj],
        init: list[Obj],
        nodes: list[tuple[str, str]],
        java: bool,
    ) -> None:
        if state in ("image-pull-backoff", "err-image-pull"):
            containers = [
                {**containers[0], "image": containers[0]["image"].rsplit(":", 1)[0] + ":9.9.9-missing"},
                *containers[1:],
            ]
        if state in ("init-error", "init-running") and not init:
            init = _INIT
        node, node_ip = nodes[self.rng.randrange(len(nodes))] if nodes else (None, "")
        ctx = PodContext(
            namespace,
            name,
            labels,
            owner,
            containers,
            init,
            _VOLUMES,
            node,
            node_ip,
            self.next_ip("10.244"),
            self.spec.nodes,
        )
        pod = build_pod(state, ctx, self.rng, self.clock)
        pod["metadata"]["uid"] = self.uid()
        self.objects.append(pod)
        self.summary.pods[(namespace, name)] = state
        info = POD_STATES[state]
        if self.spec.events and state in _EVENTS:
            self.event(pod, state)
        if self.spec.logs:
            self.pod_logs(pod, state, info.failing, java)

    def event(self, pod: Obj, state: str) -> None:
        meta, main = pod["metadata"], pod["spec"]["containers"][0]
        reason, template, component = _EVENTS[state]
        scheduling = pod["status"].get("conditions", [{}])[-1].get("message", "")
        message = template.format(
            container=main["name"], pod=meta["name"], image=main["image"], scheduling=scheduling
        )
        count = self.rng.randint(1, 300)
        node = pod["spec"].get("nodeName", "")
        self.objects.append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": f"{meta['name']}.{self.suffix(16)}",
                    "namespace": meta["namespace"],
                    "uid": self.uid(),
                    "creationTimestamp": self.clock.ago(600),
                },
                "involvedObject": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": meta["name"],
                    "namespace": meta["namespace"],
                    "uid": meta["uid"],
                    "fieldPath": f"spec.containers{{{main['name']}}}",
                },
                "reason": reason,
                "message": message,
                "type": "Warning",
                "count": count,
                "firstTimestamp": self.clock.ago(3600),
                "lastTimestamp": self.clock.ago(self.rng.randint(5, 300)),
                "source": {"component": component, **({"host": node} if node else {})},
                "reportingComponent": component,
                "reportingInstance": node,
            }
        )

    def pod_logs(self, pod: Obj, state: str, failing: bool, java: bool) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        namespace, name, lines = meta["namespace"], meta["name"], self.spec.log_lines
        oom = state == "oomkilled"
        if state in ("init-error", "init-running"):
            text = container_log(self.rng, namespace, 3, state == "init-error", False)
            self.logs.append((namespace, name, spec["initContainers"][0]["name"], text, False))
            return
        if state in (
            "running",
            "running-unready",
            "terminating",
            "crashloop",
            "oomkilled",
            "completed",
            "evicted",
        ):
            for index, container in enumerate(spec["containers"]):
                bad = failing and index == 0
                text = container_log(
                    self.rng, namespace, lines, bad and state != "running-unready", java, oom
                )
                self.logs.append((namespace, name, container["name"], text, False))
                if bad and state in ("crashloop", "oomkilled"):
                    self.logs.append(
                        (
                            namespace,
                            name,
                            container["name"],
                            container_log(self.rng, namespace, lines, True, java, oom),
                            True,
                        )
                    )
