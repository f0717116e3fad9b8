"""kubectl's pod STATUS column, READY and RESTARTS, computed from a raw pod dict.

Follows the rules of kubectl's ``printPod`` (kubectl get pods): phase, then pod reason, init
containers in order, regular containers from last to first, then deletion. Pure functions on
raw JSON (no client models). Used by the inventory enrichers (pod counts by status) and pod watch.
Also kubectl's short ages (:func:`human_duration`, apimachinery's ``duration.HumanDuration``: "45s",
"3m20s", "5h3m", "3d4h", "2y10d") and :func:`since` (``translateTimestampSince``), which RESTARTS
("3 (5m ago)") and AGE print with — shared by pod triage and the emulator's table printers.

Every field read is type-checked: a pod whose answer does not have the shape of a Pod (a reason
that is a number, a container status that is a string, a NUL byte in a reason) raises
:class:`MalformedPod` naming the field, never a bare ``TypeError`` from deep inside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class MalformedPod(ValueError):
    """A pod field has the wrong type or an unusable value; ``field`` is its path (``status.reason``)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"malformed-{field}")
        self.field = field


INIT_FIELD, FIELD = "status.initContainerStatuses", "status.containerStatuses"
INIT_RESTARTS, INIT_NAME = f"{INIT_FIELD}.restartCount", f"{INIT_FIELD}.name"
INIT_WAITING, INIT_TERMINATED = f"{INIT_FIELD}.state.waiting.reason", f"{INIT_FIELD}.state.terminated"
RESTARTS, WAITING, TERMINATED = f"{FIELD}.restartCount", f"{FIELD}.state.waiting.reason", f"{FIELD}.state.terminated"


@dataclass(frozen=True)
class PodStatus:
    status: str
    ready: int
    total: int
    restarts: int
    initializing: bool

    @property
    def ready_text(self) -> str:
        return f"{self.ready}/{self.total}"


def _map(value: Any, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict and not isinstance(value, Mapping):
        raise MalformedPod(field)
    return value


def _maps(value: Any, field: str) -> Sequence[Mapping[str, Any]]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MalformedPod(field)
    for item in value:
        if type(item) is not dict and not isinstance(item, Mapping):
            raise MalformedPod(field)
    return value


def _text(value: Any, field: str) -> str | None:
    """An optional string; a NUL byte makes it unusable (it would become a database key)."""
    if value is None:
        return None
    if type(value) is not str or "\x00" in value:
        raise MalformedPod(field)
    return value


def _int(value: Any, field: str) -> int:
    if type(value) is int:  # the common case first (bool is a subclass of int: refused below)
        return value
    if value is None:
        return 0
    raise MalformedPod(field)


def _condition(pod_status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for cond in _maps(pod_status.get("conditions"), "status.conditions"):
        if cond.get("type") == kind:
            return cond
    return None


def _terminated_reason(term: Mapping[str, Any], field: str, prefix: str = "") -> str:
    reason, signal, code = term.get("reason"), term.get("signal"), term.get("exitCode")
    if reason:
        return f"{prefix}{_text(reason, field + '.reason')}"
    if signal:
        return f"{prefix}Signal:{_int(signal, field + '.signal')}"
    return f"{prefix}ExitCode:{_int(code, field + '.exitCode')}"


def _state(cs: Mapping[str, Any], field: str) -> tuple[Mapping[str, Any], Mapping[str, Any] | None,
                                                      Mapping[str, Any] | None]:
    state = cs.get("state")
    if state is None:
        return {}, None, None
    if type(state) is not dict and not isinstance(state, Mapping):
        raise MalformedPod(f"{field}.state")
    term = state.get("terminated")
    waiting = state.get("waiting")
    if term is not None and type(term) is not dict and not isinstance(term, Mapping):
        raise MalformedPod(f"{field}.state.terminated")
    if waiting is not None and type(waiting) is not dict and not isinstance(waiting, Mapping):
        raise MalformedPod(f"{field}.state.waiting")
    return state, term, waiting


def pod_status(pod: Mapping[str, Any]) -> PodStatus:
    """The STATUS kubectl would print for ``pod`` (a raw API dict), with READY and RESTARTS.

    :raises MalformedPod: a field this reads has the wrong type (the exception names it).
    """
    if type(pod) is not dict and not isinstance(pod, Mapping):
        raise MalformedPod("object")
    spec = _map(pod.get("spec"), "spec")
    status = _map(pod.get("status"), "status")
    meta = _map(pod.get("metadata"), "metadata")
    phase = _text(status.get("phase"), "status.phase")
    pod_reason = _text(status.get("reason"), "status.reason")
    reason = pod_reason or phase or "Unknown"
    scheduled = _condition(status, "PodScheduled")
    if scheduled and scheduled.get("reason") == "SchedulingGated":
        reason = "SchedulingGated"

    init_specs = _maps(spec.get("initContainers"), "spec.initContainers")
    sidecars = {_text(c.get("name"), "spec.initContainers.name") for c in init_specs
                if c.get("restartPolicy") == "Always"}
    total = len(_maps(spec.get("containers"), "spec.containers")) + len(sidecars)
    ready = restarts = 0
    initializing = False

    init_statuses = _maps(status.get("initContainerStatuses"), "status.initContainerStatuses")
    init_field = INIT_FIELD
    for i, cs in enumerate(init_statuses):
        restarts += _int(cs.get("restartCount"), INIT_RESTARTS)
        _, term, waiting = _state(cs, init_field)
        if term is not None and term.get("exitCode") == 0:
            continue
        if _text(cs.get("name"), INIT_NAME) in sidecars and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        waiting_reason = _text((waiting or {}).get("reason"), INIT_WAITING)
        if term is not None:
            reason = _terminated_reason(term, INIT_TERMINATED, "Init:")
        elif waiting_reason and waiting_reason != "PodInitializing":
            reason = f"Init:{waiting_reason}"
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    initialized = _condition(status, "Initialized")
    if not initializing or (initialized and initialized.get("status") == "True"):
        restarts = sum(_int(cs.get("restartCount"), INIT_RESTARTS) for cs in init_statuses
                       if _text(cs.get("name"), INIT_NAME) in sidecars)
        has_running = False
        field = FIELD
        for cs in reversed(_maps(status.get("containerStatuses"), field)):
            restarts += _int(cs.get("restartCount"), RESTARTS)
            state, term, waiting = _state(cs, field)
            waiting_reason = _text((waiting or {}).get("reason"), WAITING)
            if waiting_reason:
                reason = waiting_reason
            elif term is not None:
                reason = _terminated_reason(term, TERMINATED)
            elif "running" in state and cs.get("ready"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = _condition(status, "Ready")
            reason = "Running" if pod_ready and pod_ready.get("status") == "True" else "NotReady"

    if meta.get("deletionTimestamp"):
        if pod_reason == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return PodStatus(reason, ready, total, restarts, initializing)


def human_duration(seconds: float) -> str:
    """``seconds`` as kubectl prints an age: ``human_duration(200)`` -> ``"3m20s"``."""
    total = int(seconds)  # truncates towards zero, like Go's int(d.Seconds())
    if total < -1:
        return "<invalid>"
    if total < 0:
        return "0s"
    if total < 120:
        return f"{total}s"
    minutes = total // 60
    if minutes < 10:
        return f"{minutes}m{total % 60}s" if total % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        return f"{years}y{days % 365}d" if days % 365 else f"{years}y"
    return f"{years}y"


def since(then: datetime | None, now: datetime) -> str:
    """kubectl's ``translateTimestampSince``: the age of ``then`` at ``now``, "<unknown>" without one."""
    return "<unknown>" if then is None else human_duration((now - then).total_seconds())
