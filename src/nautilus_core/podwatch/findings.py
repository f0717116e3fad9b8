"""The problems of one pod, each with the health bucket it puts the pod in.

Owns :func:`pod_findings`: from a :class:`~nautilus_core.podwatch.reading.PodReading` and kubectl's STATUS,
the pod-level problems (Evicted, NodeLost, Unknown, Failed; Terminating past its deletion time plus grace
period; unschedulable, scheduling gates, Init:i/N, ContainerCreating, PodInitializing, Pending: initializing
while young, degraded once stuck past ``stuck_after``, each measured from its own timestamp), the
container problems (failing waiting reasons, error terminations, an OOMKilled ``lastState`` as an issue of its
own, readiness, recent abnormal restarts) and the Warning Events (evidence: no bucket; those from before a
ready pod became ready are left out). Severity and hint of each come from :mod:`.hints`; messages are
masked (:mod:`.secrets`). Called by :mod:`.triage`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from nautilus_core.db.models.podwatch import ContainerState, Health
from nautilus_core.podstatus import MalformedPod, PodStatus, human_duration, since
from nautilus_core.podwatch.fields import as_message, as_text, as_time, get_map
from nautilus_core.podwatch.hints import hint, severity
from nautilus_core.podwatch.reading import Container, PodReading
from nautilus_core.podwatch.secrets import mask_secrets
from nautilus_core.podwatch.verdict import Issue, TriageOptions

__all__ = ["FAILING_POD_REASONS", "FAILING_WAITING", "STARTING_WAITING", "Findings", "pod_findings"]

log = structlog.get_logger(__name__)

FAILING_WAITING = frozenset({
    "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "CreateContainerError",
    "InvalidImageName", "ErrImageNeverPull", "RunContainerError", "PreStartHookError", "PostStartHookError",
    "ImageInspectError", "RegistryUnavailable", "SignatureValidationFailed", "StartError",
})
STARTING_WAITING = frozenset({"ContainerCreating", "PodInitializing"})
FAILING_POD_REASONS = frozenset({
    "Evicted", "NodeLost", "UnexpectedAdmissionError", "Shutdown", "Terminated", "NodeShutdown", "OutOfcpu",
    "OutOfmemory", "OutOfpods", "NodeAffinity", "DeadlineExceeded",
})
_INIT_PROGRESS = re.compile(r"Init:(\d+)/(\d+)")
_FIELD_PATH = re.compile(r"spec\.(?:initContainers|containers|ephemeralContainers)\{([^}]*)\}")


@dataclass
class Findings:
    """Issues found so far, each with the bucket it puts its pod in (None: evidence only)."""

    items: list[tuple[Issue, Health | None]] = field(default_factory=list)

    def add(self, container: str | None, reason: str, message: str | None, bucket: Health | None,
            exit_code: int | None = None) -> None:
        message = None if message is None else mask_secrets(message)
        self.items.append((Issue(container, reason, message, hint(reason, exit_code, message), severity(reason)),
                           bucket))


def _container(found: Findings, c: Container, now: datetime, options: TriageOptions, sidecar: bool,
               ready_message: str | None) -> None:
    v = c.verdict
    kind = "init container" if v.init else "container"
    if v.state == ContainerState.WAITING.value and v.reason and v.reason not in STARTING_WAITING:
        if v.reason in FAILING_WAITING:
            message = v.message or v.reason
            if v.reason == "CrashLoopBackOff" and (v.last_reason or v.last_exit_code is not None):
                code = f", exit code {v.last_exit_code}" if v.last_exit_code is not None else ""
                message = f"{message} (last exit: {v.last_reason or 'Error'}{code})"
            found.add(v.name, v.reason, message, Health.FAILING, v.last_exit_code)
        else:
            found.add(v.name, v.reason, v.message, Health.DEGRADED)
        if v.last_reason == "OOMKilled":
            ago = f" {since(v.last_finished_at, now)} ago" if v.last_finished_at else ""
            found.add(v.name, "OOMKilled", f"{kind} {v.name} was OOMKilled{ago} (exit code {v.last_exit_code}), "
                      f"{v.restart_count} restarts; now {v.reason}", Health.FAILING, v.last_exit_code)
        return
    if v.state == ContainerState.TERMINATED.value:
        if v.exit_code == 0 and v.reason in (None, "Completed"):
            return
        reason = v.reason or (f"Signal:{c.signal}" if c.signal else f"ExitCode:{v.exit_code or 0}")
        found.add(v.name, reason, v.message or f"{kind} {v.name} terminated with exit code {v.exit_code}",
                  Health.FAILING, v.exit_code)
        return
    if v.state != ContainerState.RUNNING.value:
        return
    if (not v.init or sidecar) and v.ready is False:
        young = v.started_at is not None and (now - v.started_at) < options.ready_grace
        found.add(v.name, "NotReady", ready_message or f"{kind} {v.name} is running but not ready",
                  Health.INITIALIZING if young else Health.DEGRADED)
    abnormal = v.last_reason not in (None, "Completed") or v.last_exit_code not in (None, 0)
    if v.restart_count and abnormal and v.last_finished_at is not None:
        elapsed = now - v.last_finished_at
        if elapsed <= options.recent_restart:
            reason = v.last_reason or f"ExitCode:{v.last_exit_code}"
            found.add(v.name, reason, f"{kind} {v.name} restarted {human_duration(elapsed.total_seconds())} ago "
                      f"after {reason} (exit code {v.last_exit_code})", Health.DEGRADED, v.last_exit_code)


def _young_or_stuck(found: Findings, reason: str, message: str, start: datetime | None, now: datetime,
                    options: TriageOptions) -> None:
    """Initializing while ``now - start`` is within ``stuck_after``, degraded past it."""
    elapsed = None if start is None else now - start
    if elapsed is not None and elapsed > options.stuck_after:
        found.add(None, reason, f"{message} for {human_duration(elapsed.total_seconds())}, longer than "
                  f"{human_duration(options.stuck_after.total_seconds())}", Health.DEGRADED)
    else:
        found.add(None, reason, message, Health.INITIALIZING)


def _starting(found: Findings, pod: PodReading, status: str, now: datetime, options: TriageOptions) -> None:
    """A pod on its way to running: which step it is at, and since when."""
    scheduled = pod.condition("PodScheduled")
    scheduled_at = scheduled.since if scheduled.status == "True" else None
    base = status[5:] if status.startswith("Init:") else status
    if status == "SchedulingGated" or scheduled.reason == "SchedulingGated":
        _young_or_stuck(found, "SchedulingGated", "waiting for scheduling gates", pod.created, now, options)
    elif scheduled.status == "False":
        _young_or_stuck(found, scheduled.reason or "Unschedulable", scheduled.message or
                        "the pod cannot be scheduled", scheduled.since or pod.created, now, options)
    elif (progress := _INIT_PROGRESS.fullmatch(status)) is not None:
        index, total = int(progress.group(1)), int(progress.group(2))
        current = f" ({pod.inits[index].verdict.name})" if index < len(pod.inits) else ""
        _young_or_stuck(found, "Initializing", f"init container {index + 1} of {total}{current} has not finished",
                        pod.start_time or pod.created, now, options)
    elif base == "ContainerCreating":
        _young_or_stuck(found, "ContainerCreating", "containers are being created",
                        scheduled_at or pod.start_time or pod.created, now, options)
    elif base == "PodInitializing":
        initialized = pod.condition("Initialized")
        _young_or_stuck(found, "PodInitializing", "containers are starting after the init containers",
                        (initialized.since if initialized.status == "True" else None) or pod.start_time
                        or pod.created, now, options)
    elif status == "Pending":
        _young_or_stuck(found, "Pending", "the pod has not started", scheduled_at or pod.created, now, options)


def _event_time(event: Mapping[str, Any], i: int) -> datetime | None:
    """When an Event last happened: series.lastObservedTime, lastTimestamp, eventTime or firstTimestamp."""
    series = get_map(event, "series", f"events[{i}].series")
    return (as_time(series.get("lastObservedTime"), f"events[{i}].series.lastObservedTime")
            or as_time(event.get("lastTimestamp"), f"events[{i}].lastTimestamp")
            or as_time(event.get("eventTime"), f"events[{i}].eventTime")
            or as_time(event.get("firstTimestamp"), f"events[{i}].firstTimestamp"))


def _events(found: Findings, events: Sequence[Mapping[str, Any]] | None, pod: PodReading) -> None:
    """Warning Events as evidence; those from before a ready pod became ready are history, not a problem;
    a malformed Event is skipped (and logged), never fatal."""
    ready = pod.condition("Ready")
    ready_since = ready.since if ready.status == "True" else None
    seen: set[tuple[str | None, str, str | None]] = set()
    for i, event in enumerate(events or ()):
        try:
            if not isinstance(event, Mapping):
                raise MalformedPod(f"events[{i}]")
            if as_text(event.get("type"), f"events[{i}].type") != "Warning":
                continue
            reason = as_text(event.get("reason"), f"events[{i}].reason") or "Warning"
            message = as_message(event.get("message"), f"events[{i}].message")
            path = as_text(get_map(event, "involvedObject", f"events[{i}].involvedObject").get("fieldPath"),
                           f"events[{i}].involvedObject.fieldPath")
            when = _event_time(event, i)
        except MalformedPod as bad:
            log.warning("pod_event_malformed", pod=f"{pod.namespace}/{pod.name}", field=bad.field)
            continue
        if ready_since is not None and when is not None and when < ready_since:
            continue
        match = _FIELD_PATH.fullmatch(path or "")
        container = match.group(1) if match else None
        if (container, reason, message) not in seen:
            seen.add((container, reason, message))
            found.add(container, reason, message, None)


def pod_findings(pod: PodReading, kubectl: PodStatus, events: Sequence[Mapping[str, Any]] | None, now: datetime,
                 options: TriageOptions) -> Findings:
    """Every problem of ``pod`` (see the module docstring), in the order found."""
    found = Findings()
    phase = pod.phase
    unknown = kubectl.status == "Unknown" or phase == "Unknown"
    if unknown or pod.reason in FAILING_POD_REASONS or (phase == "Failed" and pod.reason):
        found.add(None, pod.reason or "Unknown", pod.message or f"pod {pod.name} is {kubectl.status}",
                  Health.FAILING)
    if pod.deleting is not None and phase not in ("Succeeded", "Failed") and not unknown:
        # deletionTimestamp is when the pod should be gone (request + grace): stuck a grace period after it
        if (now - pod.deleting).total_seconds() > pod.grace:
            found.add(None, "Terminating", f"deletion was due {since(pod.deleting, now)} ago and the grace "
                      f"period ({pod.grace}s) is over", Health.DEGRADED)
    elif phase != "Succeeded" and not unknown:
        ready_message = pod.condition("Ready").message
        for c in (*pod.inits, *pod.regular):
            _container(found, c, now, options, c.verdict.name in pod.sidecars, ready_message)
        _starting(found, pod, kubectl.status, now, options)
    if phase == "Failed" and not found.items:
        found.add(None, "Failed", pod.message or f"pod {pod.name} failed", Health.FAILING)
    _events(found, events, pod)
    return found
