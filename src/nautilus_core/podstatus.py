"""kubectl's pod STATUS column, READY and RESTARTS, computed from a raw pod dict.

Follows the rules of kubectl's printPod (see REFERENCE.md): phase, then pod reason, init
containers in order, regular containers from last to first, then deletion. Pure functions on
raw JSON (no client models). Used by the inventory enrichers (pod counts by status) and pod watch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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


def _condition(pod_status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for cond in pod_status.get("conditions") or ():
        if cond.get("type") == kind:
            return cond
    return None


def _terminated_reason(term: Mapping[str, Any], prefix: str = "") -> str:
    if term.get("reason"):
        return f"{prefix}{term['reason']}"
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


def pod_status(pod: Mapping[str, Any]) -> PodStatus:
    """The STATUS kubectl would print for ``pod`` (a raw API dict), with READY and RESTARTS."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    meta = pod.get("metadata") or {}
    reason = status.get("phase") or "Unknown"
    if status.get("reason"):
        reason = status["reason"]
    scheduled = _condition(status, "PodScheduled")
    if scheduled and scheduled.get("reason") == "SchedulingGated":
        reason = "SchedulingGated"

    init_specs = spec.get("initContainers") or ()
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or ()) + len(sidecars)
    ready = restarts = 0
    initializing = False

    init_statuses = status.get("initContainerStatuses") or ()
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        if term is not None and term.get("exitCode") == 0:
            continue
        if cs.get("name") in sidecars and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if term is not None:
            reason = _terminated_reason(term, "Init:")
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    initialized = _condition(status, "Initialized")
    if not initializing or (initialized and initialized.get("status") == "True"):
        restarts = sum(int(cs.get("restartCount") or 0) for cs in init_statuses
                       if cs.get("name") in sidecars)
        has_running = False
        for cs in reversed(status.get("containerStatuses") or ()):
            restarts += int(cs.get("restartCount") or 0)
            state = cs.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif term is not None and term.get("reason"):
                reason = term["reason"]
            elif term is not None:
                reason = _terminated_reason(term)
            elif "running" in state and cs.get("ready"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = _condition(status, "Ready")
            reason = "Running" if pod_ready and pod_ready.get("status") == "True" else "NotReady"

    if meta.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return PodStatus(reason, ready, total, restarts, initializing)
