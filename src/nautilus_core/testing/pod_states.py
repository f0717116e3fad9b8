"""Pod objects in the states a triage tool must recognise, for the fleet generator.

Owns :data:`POD_STATES` (each generated state with the STATUS ``kubectl get pods`` prints for it) and
:func:`build_pod`, which writes one schema-complete pod (``kubernetes`` 37 models validate required
fields on read) in a given state: ready and unready Running, CrashLoopBackOff (with an Error or an
OOMKilled last state), ImagePullBackOff, ErrImagePull, Init:Error, Init:0/1, young and stuck
ContainerCreating, unschedulable Pending, Completed, Evicted, Terminating. Called by ``fleet.py``;
built to be cheap (templates shared between pods of one app are never copied).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class PodState:
    """A generated pod state: its id, and what kubectl prints in the STATUS column."""

    id: str
    kubectl_status: str
    failing: bool  # gets error logs and a stack trace, and a Warning event


POD_STATES: dict[str, PodState] = {
    state.id: state
    for state in (
        PodState("running", "Running", False),
        PodState("running-unready", "Running", True),
        PodState("crashloop", "CrashLoopBackOff", True),
        PodState("oomkilled", "CrashLoopBackOff", True),
        PodState("image-pull-backoff", "ImagePullBackOff", True),
        PodState("err-image-pull", "ErrImagePull", True),
        PodState("init-error", "Init:Error", True),
        PodState("init-running", "Init:0/1", False),
        PodState("creating", "ContainerCreating", False),
        PodState("creating-stuck", "ContainerCreating", True),
        PodState("unschedulable", "Pending", True),
        PodState("completed", "Completed", False),
        PodState("evicted", "Evicted", True),
        PodState("terminating", "Terminating", False),
    )
}

DEFAULT_WEIGHTS: dict[str, float] = {
    "running": 70,
    "running-unready": 3,
    "crashloop": 4,
    "oomkilled": 2,
    "image-pull-backoff": 2,
    "err-image-pull": 1,
    "init-error": 1,
    "init-running": 1,
    "creating": 2,
    "creating-stuck": 1,
    "unschedulable": 3,
    "completed": 6,
    "evicted": 2,
    "terminating": 2,
}


class Clock:
    """RFC 3339 timestamps relative to one fixed 'now' (seconds ago -> string), cheaply."""

    def __init__(self, now: float) -> None:
        self.now = now

    def ago(self, seconds: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now - seconds))


@dataclass
class PodContext:
    """What one pod shares with its app and cluster (shared dicts are never mutated)."""

    namespace: str
    name: str
    labels: dict[str, str]
    owner: dict[str, Any] | None
    containers: list[Obj]  # spec.containers, shared by the app
    init_containers: list[Obj]  # spec.initContainers, shared by the app (may be empty)
    volumes: list[Obj]
    node: str | None
    node_ip: str
    pod_ip: str
    node_count: int


_TOLERATIONS = [
    {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
    {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
]


def _hex(rng: random.Random, bits: int = 256) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def _condition(
    kind: str, status: bool, when: str, reason: str | None = None, message: str | None = None
) -> Obj:
    condition: Obj = {
        "type": kind,
        "status": "True" if status else "False",
        "lastProbeTime": None,
        "lastTransitionTime": when,
    }
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def _conditions(
    when: str,
    scheduled: bool = True,
    initialized: bool = True,
    ready: bool = True,
    sandbox: bool = True,
    reason: str | None = None,
    message: str | None = None,
) -> list[Obj]:
    not_ready = None if ready else (reason or "ContainersNotReady")
    return [
        _condition("PodReadyToStartContainers", sandbox, when),
        _condition(
            "Initialized",
            initialized,
            when,
            None if initialized else "ContainersNotInitialized",
            None if initialized else message,
        ),
        _condition("Ready", ready, when, not_ready, None if ready else message),
        _condition("ContainersReady", ready, when, not_ready, None if ready else message),
        _condition("PodScheduled", scheduled, when),
    ]


def _status(
    container: Obj,
    rng: random.Random,
    ready: bool,
    state: Obj,
    restarts: int = 0,
    last: Obj | None = None,
    started: bool | None = None,
    pulled: bool = True,
) -> Obj:
    image = container["image"]
    status: Obj = {
        "name": container["name"],
        "image": image,
        "imageID": f"{image.split(':')[0]}@sha256:{_hex(rng)}" if pulled else "",
        "ready": ready,
        "restartCount": restarts,
        "started": started if started is not None else ready,
        "state": state,
        "lastState": last or {},
    }
    if pulled and "waiting" not in state:
        status["containerID"] = f"containerd://{_hex(rng)}"
    return status


def _terminated(clock: Clock, rng: random.Random, code: int, reason: str, ended_ago: float) -> Obj:
    return {
        "terminated": {
            "exitCode": code,
            "reason": reason,
            "startedAt": clock.ago(ended_ago + rng.randint(5, 600)),
            "finishedAt": clock.ago(ended_ago),
            "containerID": f"containerd://{_hex(rng)}",
        }
    }


def build_pod(state: str, ctx: PodContext, rng: random.Random, clock: Clock) -> Obj:
    """One pod of ``ctx`` in ``state`` (a key of :data:`POD_STATES`)."""
    age = {
        "creating": rng.randint(3, 25),
        "creating-stuck": rng.randint(20 * 60, 90 * 60),
        "init-running": rng.randint(10, 90),
    }.get(state, rng.randint(15 * 60, 30 * 86400))
    created = clock.ago(age)
    started_ago = max(1, age - rng.randint(1, 10))
    main, sidecars = ctx.containers[0], ctx.containers[1:]
    metadata: Obj = {
        "name": ctx.name,
        "namespace": ctx.namespace,
        "labels": ctx.labels,
        "creationTimestamp": created,
    }
    if ctx.owner is not None:
        metadata["ownerReferences"] = [ctx.owner]
    spec: Obj = {
        "containers": ctx.containers,
        "restartPolicy": "Never" if state == "completed" else "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "tolerations": _TOLERATIONS,
        "volumes": ctx.volumes,
        "enableServiceLinks": True,
        "priority": 0,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    if ctx.init_containers or state in ("init-error", "init-running"):
        spec["initContainers"] = ctx.init_containers
    status: Obj = {"qosClass": "Burstable", "startTime": clock.ago(started_ago)}
    if state != "unschedulable" and ctx.node is not None:
        spec["nodeName"] = ctx.node
        status.update(hostIP=ctx.node_ip, hostIPs=[{"ip": ctx.node_ip}])
    when = clock.ago(started_ago)
    running = {"running": {"startedAt": clock.ago(started_ago)}}

    def sidecar_statuses(ready: bool = True) -> list[Obj]:
        return [
            _status(
                c, rng, ready, running if ready else {"waiting": {"reason": "PodInitializing"}}, pulled=ready
            )
            for c in sidecars
        ]

    if state in ("running", "terminating", "running-unready"):
        ready = state != "running-unready"
        restarts = rng.choice((0, 0, 0, 0, 1, 2)) if state == "running" else 0
        last = _terminated(clock, rng, 1, "Error", started_ago) if restarts else None
        message = None if ready else f"containers with unready status: [{main['name']}]"
        status.update(
            phase="Running",
            podIP=ctx.pod_ip,
            podIPs=[{"ip": ctx.pod_ip}],
            conditions=_conditions(when, ready=ready, message=message),
            containerStatuses=[
                _status(main, rng, ready, running, restarts, last, started=True),
                *sidecar_statuses(),
            ],
        )
        if state == "terminating":
            metadata["deletionTimestamp"] = clock.ago(rng.randint(5, 25))
            metadata["deletionGracePeriodSeconds"] = 30
    elif state in ("crashloop", "oomkilled"):
        restarts = rng.randint(3, 60)
        reason, code = ("OOMKilled", 137) if state == "oomkilled" else ("Error", 1)
        waiting = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 5m0s restarting failed container={main['name']} pod={ctx.name}",
            }
        }
        status.update(
            phase="Running",
            podIP=ctx.pod_ip,
            podIPs=[{"ip": ctx.pod_ip}],
            conditions=_conditions(
                when, ready=False, message=f"containers with unready status: [{main['name']}]"
            ),
            containerStatuses=[
                _status(
                    main,
                    rng,
                    False,
                    waiting,
                    restarts,
                    _terminated(clock, rng, code, reason, rng.randint(10, 290)),
                    started=False,
                ),
                *sidecar_statuses(),
            ],
        )
    elif state in ("image-pull-backoff", "err-image-pull"):
        image = main["image"]
        pull_error: dict[str, str] = (
            {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
            if state == "image-pull-backoff"
            else {
                "reason": "ErrImagePull",
                "message": f"rpc error: code = NotFound desc = failed to pull and "
                f'unpack image "{image}": not found',
            }
        )
        status.update(
            phase="Pending",
            podIP=ctx.pod_ip,
            podIPs=[{"ip": ctx.pod_ip}],
            conditions=_conditions(
                when, ready=False, message=f"containers with unready status: [{main['name']}]"
            ),
            containerStatuses=[
                _status(main, rng, False, {"waiting": pull_error}, pulled=False),
                *sidecar_statuses(),
            ],
        )
    elif state in ("init-error", "init-running"):
        init = ctx.init_containers[0]
        init_state = (
            _terminated(clock, rng, 1, "Error", rng.randint(5, 120)) if state == "init-error" else running
        )
        pending = {"waiting": {"reason": "PodInitializing"}}
        status.update(
            phase="Pending",
            podIP=ctx.pod_ip,
            podIPs=[{"ip": ctx.pod_ip}],
            conditions=_conditions(
                when,
                initialized=False,
                ready=False,
                message=f"containers with incomplete status: [{init['name']}]",
            ),
            initContainerStatuses=[
                _status(
                    init,
                    rng,
                    False,
                    init_state,
                    restarts=1 if state == "init-error" else 0,
                    started=state == "init-running",
                )
            ],
            containerStatuses=[_status(c, rng, False, pending, pulled=False) for c in ctx.containers],
        )
    elif state in ("creating", "creating-stuck"):
        waiting = {"waiting": {"reason": "ContainerCreating"}}
        status.update(
            phase="Pending",
            conditions=_conditions(
                when,
                ready=False,
                sandbox=False,
                message=f"containers with unready status: [{' '.join(c['name'] for c in ctx.containers)}]",
            ),
            containerStatuses=[_status(c, rng, False, waiting, pulled=False) for c in ctx.containers],
        )
    elif state == "unschedulable":
        n = ctx.node_count
        message = (
            f"0/{n} nodes are available: {n} Insufficient memory. preemption: 0/{n} nodes are available: "
            f"{n} No preemption victims found for incoming pod."
        )
        status = {
            "phase": "Pending",
            "qosClass": "Burstable",
            "conditions": [_condition("PodScheduled", False, when, "Unschedulable", message)],
        }
    elif state == "completed":
        done = rng.randint(60, 86400)
        status.update(
            phase="Succeeded",
            podIP=ctx.pod_ip,
            podIPs=[{"ip": ctx.pod_ip}],
            conditions=_conditions(when, ready=False, sandbox=False, reason="PodCompleted"),
            containerStatuses=[
                _status(c, rng, False, _terminated(clock, rng, 0, "Completed", done), started=False)
                for c in ctx.containers
            ],
        )
    elif state == "evicted":
        # No container statuses: kubectl would print their terminated reason instead of "Evicted".
        status.update(
            phase="Failed",
            reason="Evicted",
            message=f"The node was low on resource: memory. Threshold quantity: 100Mi, available: "
            f"91Mi. Container {main['name']} was using 1236Mi, request is 512Mi, has larger "
            f"consumption of memory.",
            conditions=_conditions(when, ready=False, sandbox=False, reason="PodFailed"),
        )
    else:
        raise ValueError(f"unknown pod state {state!r}; known: {sorted(POD_STATES)}")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def ready_column(pod: Obj) -> str:
    """The READY column for a generated pod (ready containers / containers)."""
    statuses = pod["status"].get("containerStatuses") or []
    return f"{sum(1 for s in statuses if s['ready'])}/{len(pod['spec']['containers'])}"
