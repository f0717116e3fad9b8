"""The objects a simulated cluster writes: pods from templates, claims, nodes, pod and job statuses.

Owns the pure builders ``simulate.py`` uses (nothing here touches the store): a controller's pod from
its template with the controller reference, a StatefulSet's claim, a Ready node, the Running status
of a pod as a kubelet reports it (including the ``unready`` and ``crashloop`` behaviours), the final
status of a Job's pod, and conditions that keep their transition time while unchanged.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from nautilus_core.testing.object_rules import now_rfc3339

Obj = dict[str, Any]


def digest(template: Any) -> str:
    return hashlib.sha256(orjson.dumps(template, option=orjson.OPT_SORT_KEYS)).hexdigest()[:10]


def controller_ref(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_from(owner: Obj, name: str) -> Obj:
    template = (owner.get("spec") or {}).get("template") or {}
    template_meta = template.get("metadata") or {}
    meta: Obj = {
        "name": name,
        "namespace": owner["metadata"]["namespace"],
        "labels": dict(template_meta.get("labels") or {}),
        "ownerReferences": [controller_ref(owner)],
    }
    if template_meta.get("annotations"):
        meta["annotations"] = dict(template_meta["annotations"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": dict(template.get("spec") or {}),
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }


def claim_from(claim: Obj, name: str, namespace: str, spec: Obj) -> Obj:
    labels = dict(((spec.get("selector") or {}).get("matchLabels")) or {})
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": claim.get("spec") or {},
        "status": {
            "phase": "Bound",
            "accessModes": (claim.get("spec") or {}).get("accessModes") or [],
            "capacity": ((claim.get("spec") or {}).get("resources") or {}).get("requests") or {},
        },
    }


def node(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "type": "kwok"}},
        "spec": {},
        "status": {
            "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
            "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "lastTransitionTime": now_rfc3339(),
                }
            ],
            "addresses": [
                {
                    "type": "InternalIP",
                    "address": f"10.0.0.{int(hashlib.sha256(name.encode()).hexdigest(), 16) % 250 + 2}",
                }
            ],
            "nodeInfo": {"kubeletVersion": "v1.30.2", "containerRuntimeVersion": "kwok://simulated"},
        },
    }


def node_ready(node: Obj) -> bool:
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


def node_ip(node: Obj) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return str(address.get("address"))
    return "10.0.0.1"


def pod_ready(pod: Obj | None) -> bool:
    if pod is None:
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def condition(kind: str, reason: str, status: bool = True) -> Obj:
    now = now_rfc3339()
    return {
        "type": kind,
        "status": "True" if status else "False",
        "reason": reason,
        "lastProbeTime": now,
        "lastTransitionTime": now,
    }


def keep_time(status: Obj, condition: Obj) -> Obj:
    """A condition keeps its lastTransitionTime while its status does not change (so writes settle)."""
    for old in status.get("conditions") or []:
        if old.get("type") == condition["type"] and old.get("status") == condition["status"]:
            return {**condition, "lastTransitionTime": old.get("lastTransitionTime")}
    return {**condition, "lastTransitionTime": now_rfc3339()}


def conditions(obj: Obj, wanted: list[tuple[str, bool, str, str]]) -> list[Obj]:
    status = obj.get("status") or {}
    result = []
    for kind, ok, good, bad in wanted:
        condition = {"type": kind, "status": "True" if ok else "False", "reason": good if ok else bad}
        kept = keep_time(status, condition)
        result.append({**kept, "lastUpdateTime": kept["lastTransitionTime"]})
    return result


def running(pod: Obj, behaviour: str) -> Obj:
    status = dict(pod.get("status") or {})
    started = now_rfc3339()
    ready = behaviour not in ("unready", "crashloop")
    statuses = []
    for container in (pod.get("spec") or {}).get("containers") or []:
        entry: Obj = {
            "name": container.get("name"),
            "image": container.get("image"),
            "imageID": "",
            "ready": ready,
            "started": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": started}},
        }
        if behaviour == "crashloop":
            entry.update(
                started=False,
                restartCount=5,
                state={
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off 5m0s restarting failed container",
                    }
                },
                lastState={
                    "terminated": {
                        "exitCode": 1,
                        "reason": "Error",
                        "startedAt": started,
                        "finishedAt": started,
                    }
                },
            )
        statuses.append(entry)
    flag = "True" if ready else "False"
    status.update(
        phase="Running",
        podIP=f"10.244.{sum(map(ord, pod['metadata']['uid'])) % 250}.{len(pod['metadata']['name']) % 250 + 2}",
        startTime=status.get("startTime", started),
        containerStatuses=statuses,
        conditions=[
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
            {"type": "Initialized", "status": "True", "lastTransitionTime": started},
            {"type": "ContainersReady", "status": flag, "lastTransitionTime": started},
            {"type": "Ready", "status": flag, "lastTransitionTime": started},
        ],
    )
    status["podIPs"] = [{"ip": status["podIP"]}]
    return status


def finished(pod: Obj, failed: bool) -> Obj:
    status = dict(pod.get("status") or {})
    now = now_rfc3339()
    code, reason = (1, "Error") if failed else (0, "Completed")
    status["phase"] = "Failed" if failed else "Succeeded"
    status["containerStatuses"] = [
        {
            **entry,
            "ready": False,
            "started": False,
            "state": {
                "terminated": {"exitCode": code, "reason": reason, "startedAt": now, "finishedAt": now}
            },
        }
        for entry in status.get("containerStatuses") or []
    ]
    status["conditions"] = [
        {**c, "status": "False", "reason": "PodCompleted"}
        if c.get("type") in ("Ready", "ContainersReady")
        else c
        for c in status.get("conditions") or []
    ]
    return status
