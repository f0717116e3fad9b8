"""Helpers of the classification tests: pods in the shape the API server returns them, at exact times
relative to a fixed ``NOW``, the emulator fleet generator's pods with their Events, and hypothesis
settings."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from nautilus_core.testing.fleet import FleetSpec, FleetSummary, generate

Obj = dict[str, Any]
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    """RFC 3339 (as the API server writes it) for ``seconds`` before ``NOW``."""
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(kind: str, ok: bool, seconds_ago: float, reason: str | None = None,
              message: str | None = None) -> Obj:
    cond: Obj = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None,
                 "lastTransitionTime": ago(seconds_ago)}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def running(seconds_ago: float) -> Obj:
    return {"running": {"startedAt": ago(seconds_ago)}}


def waiting(reason: str, message: str | None = None) -> Obj:
    return {"waiting": {"reason": reason, **({"message": message} if message else {})}}


def terminated(code: int, reason: str | None, finished_ago: float, ran: float = 60) -> Obj:
    body: Obj = {"exitCode": code, "startedAt": ago(finished_ago + ran), "finishedAt": ago(finished_ago),
                 "containerID": "containerd://" + "ab" * 32}
    if reason:
        body["reason"] = reason
    return {"terminated": body}


def cstatus(name: str, state: Obj, *, ready: bool = False, restarts: int = 0, last: Obj | None = None,
            image: str = "registry.example.com/shop/api:1.4.2", started: bool | None = None) -> Obj:
    out: Obj = {"name": name, "image": image, "imageID": "", "ready": ready, "restartCount": restarts,
                "started": started if started is not None else ("running" in state), "state": state,
                "lastState": last or {}}
    if "waiting" not in state:
        out["containerID"] = "containerd://" + "cd" * 32
        out["imageID"] = image.split(":")[0] + "@sha256:" + "ef" * 32
    return out


def pod(name: str = "api-7d9f8b6c5d-x2x7k", *, phase: str = "Running", age: float = 3600,
        containers: tuple[str, ...] = ("api",), init: tuple[str, ...] = (), statuses: list[Obj] | None = None,
        init_statuses: list[Obj] | None = None, conditions: list[Obj] | None = None, node: str | None = "node-1",
        reason: str | None = None, message: str | None = None, deletion_ago: float | None = None,
        grace: int | None = 30, start_ago: float | None = None, restart_policy: str = "Always") -> Obj:
    """A pod as ``GET /api/v1/namespaces/shop/pods/{name}`` returns it (owned by a ReplicaSet)."""
    meta: Obj = {
        "name": name, "namespace": "shop", "uid": f"uid-{name}", "resourceVersion": "4711",
        "creationTimestamp": ago(age), "labels": {"app": "api", "pod-template-hash": "7d9f8b6c5d"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7d9f8b6c5d",
                             "uid": "rs-uid", "controller": True, "blockOwnerDeletion": True}],
    }
    if deletion_ago is not None:
        meta["deletionTimestamp"] = ago(deletion_ago)
        if grace is not None:
            meta["deletionGracePeriodSeconds"] = grace
    spec: Obj = {
        "containers": [{"name": c, "image": "registry.example.com/shop/api:1.4.2", "resources": {},
                        "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent"}
                       for c in containers],
        "restartPolicy": restart_policy, "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default", "schedulerName": "default-scheduler",
    }
    if init:
        spec["initContainers"] = [{"name": c, "image": "busybox:1.36"} for c in init]
    if node:
        spec["nodeName"] = node
    status: Obj = {"phase": phase, "qosClass": "Burstable"}
    if start_ago is not None or node:
        status["startTime"] = ago(start_ago if start_ago is not None else age - 2)
    if conditions is not None:
        status["conditions"] = conditions
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def event(pod_name: str, reason: str, message: str, *, container: str | None = "api", kind: str = "Warning",
          seconds_ago: float = 30) -> Obj:
    """An Event about ``pod_name`` as ``GET /api/v1/namespaces/shop/events`` returns it."""
    involved: Obj = {"apiVersion": "v1", "kind": "Pod", "name": pod_name, "namespace": "shop",
                     "uid": f"uid-{pod_name}"}
    if container:
        involved["fieldPath"] = f"spec.containers{{{container}}}"
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{pod_name}.17d0c0ffee", "namespace": "shop", "uid": f"ev-{reason}"},
            "involvedObject": involved, "reason": reason, "message": message, "type": kind, "count": 3,
            "firstTimestamp": ago(seconds_ago + 300), "lastTimestamp": ago(seconds_ago),
            "source": {"component": "kubelet", "host": "node-1"}}


def fleet(seed: int = 3, pods_per_namespace: int = 60) -> tuple[list[Obj], dict[tuple[str, str], list[Obj]],
                                                                FleetSummary]:
    """The fleet generator's pods (every state), their Events by (namespace, pod), and its summary; the
    generator's clock is ``NOW``."""
    objects, _logs, summary = generate(FleetSpec(namespaces=3, pods_per_namespace=pods_per_namespace, seed=seed,
                                                 logs=False), now=NOW.timestamp())
    events: dict[tuple[str, str], list[Obj]] = defaultdict(list)
    for obj in objects:
        if obj["kind"] == "Event":
            involved = obj["involvedObject"]
            events[(involved["namespace"], involved["name"])].append(obj)
    return [obj for obj in objects if obj["kind"] == "Pod"], events, summary


def property_settings() -> Any:
    """Bounded hypothesis settings (``NAUTILUS_HYPOTHESIS_EXAMPLES`` raises the bound), no deadline, no
    example database in the work tree."""
    from hypothesis import HealthCheck, settings

    return settings(max_examples=int(os.environ.get("NAUTILUS_HYPOTHESIS_EXAMPLES", "60")), deadline=None,
                    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
