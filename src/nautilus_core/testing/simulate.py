"""A simulated cluster behind the emulator, in the KWOK style: controllers and kubelets, no containers.

Off by default; ``KubeEmulator(simulate=True)`` (or the ``kube_cluster`` fixture) starts a
:class:`Simulator` thread that, every ``interval`` seconds and under the store's lock, plays:

* the controller manager: Deployments own one ReplicaSet per pod template (``pod-template-hash``),
  older ones are scaled to 0; ReplicaSets create and delete Pods to their replica count;
  StatefulSets create ordinal Pods (one at a time with ``OrderedReady``, all at once with
  ``Parallel``) and the PVCs of their ``volumeClaimTemplates``, and remove the highest ordinals on
  scale-down; Jobs run Pods to ``completions`` and set the Complete (or Failed) condition; every
  workload's ``status`` (replicas, readyReplicas, availableReplicas, observedGeneration, conditions)
  is kept up to date;
* the scheduler: a pod without ``spec.nodeName`` is bound to a Ready, schedulable node;
* the kubelets: a bound pod becomes Running and Ready ``startup`` seconds later; a Job's pod
  succeeds ``job_seconds`` after that; a deleted pod stays Terminating for ``termination`` seconds
  (at most its grace period) before it is removed; nodes are created when the cluster has none
  (``nodes``).

Per-pod behaviour is chosen with the annotation ``simulate.nautilus.dev/behaviour`` on the pod (or
its template): ``pending`` (never scheduled, the PodScheduled condition says why), ``unready`` (Running,
readiness probe failing), ``crashloop`` (CrashLoopBackOff with restarts), ``fail`` (a Job pod fails).
Writes are made as the server's own (trusted), so they emit the watch events clients see.
Owned by :class:`~nautilus_core.testing.KubeEmulator`; the objects it writes are built by
``simulate_objects.py``; deletion and garbage collection stay in ``deletion.py``.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from nautilus_core.testing import simulate_objects as objects
from nautilus_core.testing.object_rules import now_rfc3339
from nautilus_core.testing.resources import ResourceType
from nautilus_core.testing.store import ObjectStore

Obj = dict[str, Any]
BEHAVIOUR = "simulate.nautilus.dev/behaviour"
_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"


class Simulator:
    """The controllers, scheduler and kubelets of a simulated cluster (see the module docstring)."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        interval: float = 0.05,
        startup: float = 0.1,
        job_seconds: float = 0.2,
        nodes: int = 1,
        termination: float = 0.1,
    ) -> None:
        self.store = store
        self.interval, self.startup, self.job_seconds, self.nodes = interval, startup, job_seconds, nodes
        self.termination = termination
        self._terminating_at: dict[str, float] = {}
        self._bound_at: dict[str, float] = {}
        self._running_at: dict[str, float] = {}
        self._counter = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[Exception] = []  # a simulator bug is kept for inspection, the loop goes on
        resolve = store.resolve
        self.t = {
            kind: resolve(api, kind)
            for api, kind in (
                ("v1", "Pod"),
                ("v1", "Node"),
                ("v1", "PersistentVolumeClaim"),
                ("apps/v1", "Deployment"),
                ("apps/v1", "ReplicaSet"),
                ("apps/v1", "StatefulSet"),
                ("batch/v1", "Job"),
            )
        }

    def start(self) -> None:
        self.store.kubelet_removes_pods = True
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kube-simulator", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.store.lock:
                    self.step()
            except Exception as error:  # keep simulating the rest of the cluster
                self.errors.append(error)

    def step(self) -> None:
        """One pass of every controller, the scheduler and the kubelets."""
        now = time.monotonic()
        self._ensure_nodes()
        for deployment in self._live("Deployment"):
            self._deployment(deployment)
        for replica_set in self._live("ReplicaSet"):
            self._replica_set(replica_set)
        for stateful_set in self._live("StatefulSet"):
            self._stateful_set(stateful_set)
        for job in self._live("Job"):
            self._job(job)
        nodes = [n for n in self.store.list(self.t["Node"]) if objects.node_ready(n)]
        for pod in self.store.list(self.t["Pod"]):
            if pod["metadata"].get("deletionTimestamp"):
                self._terminate(pod, now)
            else:
                self._pod(pod, nodes, now)

    def _terminate(self, pod: Obj, now: float) -> None:
        """The kubelet stops a terminating pod's containers (after ``termination`` seconds, at most its
        grace period) and removes it; finalizers still hold it."""
        meta = pod["metadata"]
        since = self._terminating_at.setdefault(meta["uid"], now)
        grace = meta.get("deletionGracePeriodSeconds") or 0
        if now - since >= min(self.termination, grace) and not meta.get("finalizers"):
            self._terminating_at.pop(meta["uid"], None)
            self.store.delete(self.t["Pod"], meta.get("namespace"), meta["name"], grace=0)

    # -- helpers -----------------------------------------------------------------------------------

    def _live(self, kind: str) -> list[Obj]:
        return [o for o in self.store.list(self.t[kind]) if not o["metadata"].get("deletionTimestamp")]

    def _write(self, rtype: ResourceType, obj: Obj) -> Obj:
        meta = obj["metadata"]
        return self.store.update(rtype, meta.get("namespace"), meta["name"], obj, trusted=True)

    def _set_status(self, rtype: ResourceType, obj: Obj, status: Obj) -> None:
        if obj.get("status") != status:
            self._write(rtype, {**obj, "status": status})

    def _owned(self, owner: Obj, kind: str) -> list[Obj]:
        return [
            o
            for rtype, o in self.store.dependents(owner["metadata"]["uid"])
            if rtype.kind == kind and not o["metadata"].get("deletionTimestamp")
        ]

    def _create(self, kind: str, obj: Obj) -> Obj:
        return self.store.create(self.t[kind], obj["metadata"].get("namespace"), obj, trusted=True)

    def _suffix(self) -> str:
        n = next(self._counter)
        return "".join(_SUFFIX[(n // 27**i + i * 7) % 27] for i in range(5))

    def _ensure_nodes(self) -> None:
        if self.nodes and not self.store.list(self.t["Node"]):
            for i in range(self.nodes):
                self._create("Node", objects.node(f"sim-node-{i}"))

    # -- controllers -------------------------------------------------------------------------------

    def _deployment(self, deployment: Obj) -> None:
        meta, spec = deployment["metadata"], deployment.get("spec") or {}
        template = spec.get("template") or {}
        digest = objects.digest(template)
        name = f"{meta['name']}-{digest}"
        replicas = spec.get("replicas", 1)
        owned = self._owned(deployment, "ReplicaSet")
        current = next((rs for rs in owned if rs["metadata"]["name"] == name), None)
        labels = {**((template.get("metadata") or {}).get("labels") or {}), "pod-template-hash": digest}
        if current is None:
            selector = {
                **((spec.get("selector") or {}).get("matchLabels") or {}),
                "pod-template-hash": digest,
            }
            current = self._create(
                "ReplicaSet",
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": name,
                        "namespace": meta["namespace"],
                        "labels": labels,
                        "ownerReferences": [objects.controller_ref(deployment)],
                    },
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": selector},
                        "template": {
                            **template,
                            "metadata": {**(template.get("metadata") or {}), "labels": labels},
                        },
                    },
                },
            )
        elif (current.get("spec") or {}).get("replicas") != replicas:
            current = self._write(
                self.t["ReplicaSet"], {**current, "spec": {**current["spec"], "replicas": replicas}}
            )
        for old in owned:
            if old["metadata"]["name"] != name and (old.get("spec") or {}).get("replicas"):
                self._write(self.t["ReplicaSet"], {**old, "spec": {**old["spec"], "replicas": 0}})
        ready = sum(
            (rs.get("status") or {}).get("readyReplicas", 0) for rs in owned if rs["metadata"]["name"] == name
        )
        status: Obj = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": sum((rs.get("status") or {}).get("replicas", 0) for rs in owned),
            "updatedReplicas": (current.get("status") or {}).get("replicas", 0),
        }
        if ready:
            status.update(readyReplicas=ready, availableReplicas=ready)
        if replicas > ready:
            status["unavailableReplicas"] = replicas - ready
        status["conditions"] = objects.conditions(
            deployment,
            [
                ("Available", ready >= replicas, "MinimumReplicasAvailable", "MinimumReplicasUnavailable"),
                ("Progressing", True, "NewReplicaSetAvailable", "ReplicaSetUpdated"),
            ],
        )
        self._set_status(self.t["Deployment"], deployment, status)

    def _replica_set(self, replica_set: Obj) -> None:
        meta, spec = replica_set["metadata"], replica_set.get("spec") or {}
        pods = self._owned(replica_set, "Pod")
        wanted = spec.get("replicas", 1)
        for _ in range(wanted - len(pods)):
            pods.append(
                self._create("Pod", objects.pod_from(replica_set, f"{meta['name']}-{self._suffix()}"))
            )
        for extra in sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"], reverse=True)[
            : max(0, len(pods) - wanted)
        ]:
            self.store.delete(self.t["Pod"], meta["namespace"], extra["metadata"]["name"])
            pods.remove(extra)
        ready = sum(1 for p in pods if objects.pod_ready(p))
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "observedGeneration": meta.get("generation", 1),
        }
        if ready:
            status.update(readyReplicas=ready, availableReplicas=ready)
        self._set_status(self.t["ReplicaSet"], replica_set, status)

    def _stateful_set(self, stateful_set: Obj) -> None:
        meta, spec = stateful_set["metadata"], stateful_set.get("spec") or {}
        name, namespace = meta["name"], meta["namespace"]
        wanted = spec.get("replicas", 1)
        parallel = spec.get("podManagementPolicy") == "Parallel"
        pods = {p["metadata"]["name"]: p for p in self._owned(stateful_set, "Pod")}
        for ordinal in range(wanted):
            pod_name = f"{name}-{ordinal}"
            if pod_name in pods:
                continue
            if self.store.find_name(self.t["Pod"].key, namespace, pod_name) is not None:
                break  # the previous pod of this ordinal is still terminating
            if not parallel and not all(objects.pod_ready(pods.get(f"{name}-{i}")) for i in range(ordinal)):
                break
            for claim in spec.get("volumeClaimTemplates") or []:
                claim_name = f"{claim['metadata']['name']}-{pod_name}"
                if self.store.find_name(self.t["PersistentVolumeClaim"].key, namespace, claim_name) is None:
                    self._create(
                        "PersistentVolumeClaim", objects.claim_from(claim, claim_name, namespace, spec)
                    )
            pod = objects.pod_from(stateful_set, pod_name)
            pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = pod_name
            pod["spec"] = {**pod["spec"], "hostname": pod_name, "subdomain": spec.get("serviceName", "")}
            volumes = [
                {
                    "name": c["metadata"]["name"],
                    "persistentVolumeClaim": {"claimName": f"{c['metadata']['name']}-{pod_name}"},
                }
                for c in spec.get("volumeClaimTemplates") or []
            ]
            if volumes:
                pod["spec"]["volumes"] = [*(pod["spec"].get("volumes") or []), *volumes]
            pods[pod_name] = self._create("Pod", pod)
        for pod_name in sorted(
            pods, key=lambda n: int(n.rsplit("-", 1)[1]) if n.rsplit("-", 1)[1].isdigit() else 0
        ):
            ordinal = pod_name.rsplit("-", 1)[1]
            if ordinal.isdigit() and int(ordinal) >= wanted:
                self.store.delete(self.t["Pod"], namespace, pod_name)
                del pods[pod_name]
        ready = sum(1 for p in pods.values() if objects.pod_ready(p))
        revision = f"{name}-{objects.digest(spec.get('template'))}"
        status = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": len(pods),
            "currentReplicas": len(pods),
            "updatedReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "currentRevision": revision,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        self._set_status(
            self.t["StatefulSet"],
            stateful_set,
            {
                k: v
                for k, v in status.items()
                if v != 0 or k in ("replicas", "observedGeneration", "collisionCount")
            },
        )

    def _job(self, job: Obj) -> None:
        meta, spec = job["metadata"], job.get("spec") or {}
        pods = self._owned(job, "Pod")
        phases = [(p.get("status") or {}).get("phase") for p in pods]
        succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
        active = len(pods) - succeeded - failed
        completions, parallelism = spec.get("completions", 1), spec.get("parallelism", 1)
        done = succeeded >= completions
        given_up = failed > spec.get("backoffLimit", 6)
        if not done and not given_up:
            for _ in range(min(parallelism, completions - succeeded) - active):
                pod = objects.pod_from(job, f"{meta['name']}-{self._suffix()}")
                pod["metadata"]["labels"].update(
                    {"job-name": meta["name"], "batch.kubernetes.io/job-name": meta["name"]}
                )
                self._create("Pod", pod)
                active += 1
        status: Obj = {
            k: v for k, v in (job.get("status") or {}).items() if k not in ("active", "succeeded", "failed")
        }
        status.setdefault("startTime", now_rfc3339())
        counts = {"active": 0 if done else active, "succeeded": succeeded, "failed": failed}
        status.update({key: value for key, value in counts.items() if value})
        if done and "completionTime" not in status:
            status["completionTime"] = now_rfc3339()
            status["conditions"] = [
                objects.condition("SuccessCriteriaMet", "CompletionsReached"),
                objects.condition("Complete", "CompletionsReached"),
            ]
        elif given_up and not status.get("conditions"):
            status["conditions"] = [
                objects.condition("FailureTarget", "BackoffLimitExceeded"),
                objects.condition("Failed", "BackoffLimitExceeded"),
            ]
        self._set_status(self.t["Job"], job, status)

    # -- scheduler and kubelet -----------------------------------------------------------------------

    def _pod(self, pod: Obj, nodes: list[Obj], now: float) -> None:
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        behaviour = (meta.get("annotations") or {}).get(BEHAVIOUR, "")
        uid = meta["uid"]
        phase = status.get("phase", "Pending")
        if phase in ("Succeeded", "Failed"):
            return
        if not spec.get("nodeName"):
            if behaviour == "pending" or not nodes:
                message = "0/{} nodes are available: {}.".format(
                    len(nodes), "simulated as unschedulable" if nodes else "no nodes"
                )
                scheduled = {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": message,
                }
                self._set_status(
                    self.t["Pod"],
                    pod,
                    {**status, "phase": "Pending", "conditions": [objects.keep_time(status, scheduled)]},
                )
                return
            node = nodes[sum(map(ord, uid)) % len(nodes)]
            bound = {**pod, "spec": {**spec, "nodeName": node["metadata"]["name"]}}
            bound["status"] = {
                **status,
                "phase": "Pending",
                "hostIP": objects.node_ip(node),
                "conditions": [
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": now_rfc3339()}
                ],
            }
            self._write(self.t["Pod"], bound)
            self._bound_at[uid] = now
            return
        bound_at = self._bound_at.setdefault(uid, now)
        if phase == "Pending" and now - bound_at >= self.startup:
            self._set_status(self.t["Pod"], pod, objects.running(pod, behaviour))
            self._running_at[uid] = now
            return
        is_job = any(ref.get("kind") == "Job" for ref in meta.get("ownerReferences") or [])
        running_at = self._running_at.setdefault(uid, now)
        if phase == "Running" and is_job and now - running_at >= self.job_seconds:
            self._set_status(self.t["Pod"], pod, objects.finished(pod, failed=behaviour == "fail"))
