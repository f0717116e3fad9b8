"""Pod triage: one pod's verdict (kubectl's columns, health bucket, attention score, top issue).

Owns :func:`triage` and the verdict types. Called by the podwatch collector for every pod it reads (with
the pod's Events), whose rows (``pod``, ``container``) are the verdict's fields; the dashboard lists pods
by ``attention``. Pure: no I/O, the clock is the ``now`` argument.

* STATUS / READY / RESTARTS are kubectl's (:func:`nautilus_core.podstatus.pod_status`); RESTARTS carries
  the age of the last restart like kubectl (``3 (5m ago)``, from the newest ``lastState.terminated``
  ``finishedAt`` of the containers kubectl counts).
* Buckets: **failing** (a container in CrashLoopBackOff, ImagePullBackOff, ErrImagePull,
  CreateContainerConfigError, InvalidImageName...; terminated with an error; phase Failed; Evicted,
  NodeLost, Unknown), **degraded** (running but not ready; restarted abnormally within
  ``recent_restart``; Terminating past its deletion time plus grace period; ContainerCreating,
  PodInitializing, Init:i/N, Pending or unschedulable for longer than ``stuck_after``), **initializing**
  (those states while young), **healthy**, **completed** (phase Succeeded).
* Each problem is an :class:`Issue` (container, reason, message, one-line hint, severity); an OOMKilled
  ``lastState`` is its own issue (and outranks the CrashLoopBackOff kubectl prints). Warning Events are
  issues too (evidence: a pod whose only signal is a FailedMount or FailedScheduling event gets it as its
  top issue) but never change the bucket.
* ``attention`` (bigger = sooner) orders by bucket, then the top issue's severity, then restarts (recent
  ones first), then age (older first); it fits a 32-bit column.

A field of the wrong type raises :class:`~nautilus_core.podstatus.MalformedPod` naming it; a malformed
Event is skipped (logged), so one bad Event never hides its pod.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from nautilus_core.db.models.podwatch import ContainerState, Health
from nautilus_core.podstatus import MalformedPod, pod_status
from nautilus_core.podwatch.ages import human_duration, since
from nautilus_core.podwatch.fields import (
    as_bool,
    as_int,
    as_map,
    as_maps,
    as_message,
    as_text,
    as_time,
    get_map,
)
from nautilus_core.podwatch.hints import hint, severity
from nautilus_core.podwatch.secrets import mask_secrets

__all__ = ["ContainerVerdict", "Issue", "MalformedPod", "TriageOptions", "Verdict", "attention_key", "triage"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TriageOptions:
    """Time thresholds of the buckets (``PODWATCH_STUCK_AFTER`` sets ``stuck_after``)."""

    #: ContainerCreating / PodInitializing / Init:i/N / Pending longer than this: degraded, not initializing
    stuck_after: timedelta = timedelta(minutes=5)
    #: a running container not ready for less than this since it started is still initializing
    ready_grace: timedelta = timedelta(seconds=30)
    #: a running container that terminated abnormally less than this ago makes its pod degraded
    recent_restart: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Issue:
    """One problem of a pod; ``container`` is None for the pod itself."""

    container: str | None
    reason: str
    message: str | None
    hint: str | None
    severity: int


@dataclass(frozen=True)
class ContainerVerdict:
    """One (init) container, the row of table ``container``; ``last_*`` come from ``lastState.terminated``."""

    name: str
    init: bool
    image: str | None
    ready: bool | None
    state: str | None
    reason: str | None
    message: str | None
    exit_code: int | None
    started_at: datetime | None
    restart_count: int
    last_reason: str | None
    last_message: str | None
    last_exit_code: int | None
    last_finished_at: datetime | None


@dataclass(frozen=True)
class Verdict:
    """Everything triage says about one pod (the row of table ``pod``)."""

    name: str
    namespace: str | None
    status: str
    ready: str
    ready_count: int
    container_count: int
    restarts: int
    restarts_text: str
    last_restart_at: datetime | None
    health: Health
    attention: int
    top: Issue | None
    issues: tuple[Issue, ...]
    containers: tuple[ContainerVerdict, ...]
    phase: str | None
    node: str | None
    owner_kind: str | None
    owner_name: str | None
    uid: str | None
    created_at: datetime | None
    deletion_requested_at: datetime | None
    labels: dict[str, str] = field(default_factory=dict)


RANK = {Health.FAILING: 3, Health.DEGRADED: 2, Health.INITIALIZING: 1, Health.HEALTHY: 0, Health.COMPLETED: 0}
_BUCKET_WEIGHT, _SEVERITY_WEIGHT, _RESTART_WEIGHT = 500_000_000, 5_000_000, 1_000

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
class _Container:
    verdict: ContainerVerdict
    started: bool | None
    signal: int | None


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _mask(text: str | None) -> str | None:
    return None if text is None else mask_secrets(text)


def _container(cs: Mapping[str, Any], field: str, init: bool, images: Mapping[str, str | None]) -> _Container:
    name = as_text(cs.get("name"), f"{field}.name")
    if not name:
        raise MalformedPod(f"{field}.name")
    state = get_map(cs, "state", f"{field}.state")
    waiting = state.get("waiting")
    running = state.get("running")
    term = state.get("terminated")
    kind = reason = message = None
    exit_code = signal = None
    started_at = None
    if waiting is not None:
        waiting = as_map(waiting, f"{field}.state.waiting")
        kind = ContainerState.WAITING.value
        reason = as_text(waiting.get("reason"), f"{field}.state.waiting.reason")
        message = as_message(waiting.get("message"), f"{field}.state.waiting.message")
    elif term is not None:
        term = as_map(term, f"{field}.state.terminated")
        kind = ContainerState.TERMINATED.value
        reason = as_text(term.get("reason"), f"{field}.state.terminated.reason")
        message = as_message(term.get("message"), f"{field}.state.terminated.message")
        exit_code = as_int(term.get("exitCode"), f"{field}.state.terminated.exitCode")
        signal = as_int(term.get("signal"), f"{field}.state.terminated.signal")
        started_at = as_time(term.get("startedAt"), f"{field}.state.terminated.startedAt")
    elif running is not None:
        running = as_map(running, f"{field}.state.running")
        kind = ContainerState.RUNNING.value
        started_at = as_time(running.get("startedAt"), f"{field}.state.running.startedAt")
    last = get_map(get_map(cs, "lastState", f"{field}.lastState"), "terminated", f"{field}.lastState.terminated")
    verdict = ContainerVerdict(
        name=name,
        init=init,
        image=as_text(cs.get("image"), f"{field}.image") or images.get(name),
        ready=as_bool(cs.get("ready"), f"{field}.ready"),
        state=kind,
        reason=reason,
        message=_mask(message),
        exit_code=exit_code,
        started_at=started_at,
        restart_count=as_int(cs.get("restartCount"), f"{field}.restartCount") or 0,
        last_reason=as_text(last.get("reason"), f"{field}.lastState.terminated.reason"),
        last_message=_mask(as_message(last.get("message"), f"{field}.lastState.terminated.message")),
        last_exit_code=as_int(last.get("exitCode"), f"{field}.lastState.terminated.exitCode"),
        last_finished_at=as_time(last.get("finishedAt"), f"{field}.lastState.terminated.finishedAt"),
    )
    return _Container(verdict, as_bool(cs.get("started"), f"{field}.started"), signal)


def _spec_containers(spec: Mapping[str, Any], key: str) -> list[tuple[str, str | None, bool]]:
    out = []
    for c in as_maps(spec.get(key), f"spec.{key}"):
        name = as_text(c.get("name"), f"spec.{key}.name")
        if name is None:
            raise MalformedPod(f"spec.{key}.name")
        sidecar = as_text(c.get("restartPolicy"), f"spec.{key}.restartPolicy") == "Always"
        out.append((name, as_text(c.get("image"), f"spec.{key}.image"), sidecar))
    return out


def _latest(*times: datetime | None) -> datetime | None:
    present = [t for t in times if t is not None]
    return max(present) if present else None


def _last_restart(inits: list[_Container], regular: list[_Container], sidecars: set[str],
                  use_regular: bool) -> datetime | None:
    """kubectl's lastRestartDate: newest lastState finishedAt of the init containers up to the one that
    stops initialization, or (initialized) of the started sidecars and the regular containers."""
    visited = sidecar_last = None
    for c in inits:
        v = c.verdict
        visited = _latest(visited, v.last_finished_at)
        if v.name in sidecars:
            sidecar_last = _latest(sidecar_last, v.last_finished_at)
        if v.state == ContainerState.TERMINATED.value and v.exit_code == 0:
            continue
        if v.name in sidecars and c.started:
            continue
        break
    if not use_regular:
        return visited
    return _latest(sidecar_last, *(c.verdict.last_finished_at for c in regular))


@dataclass
class _Findings:
    """Issues found so far, each with the bucket it puts its pod in (None: evidence only)."""

    items: list[tuple[Issue, Health | None]] = field(default_factory=list)

    def add(self, container: str | None, reason: str, message: str | None, bucket: Health | None,
            exit_code: int | None = None) -> None:
        message = _mask(message)
        self.items.append((Issue(container, reason, message, hint(reason, exit_code, message), severity(reason)),
                           bucket))


def _terminated_reason(v: ContainerVerdict, signal: int | None) -> str:
    if v.reason:
        return v.reason
    return f"Signal:{signal}" if signal else f"ExitCode:{v.exit_code or 0}"


def _container_findings(found: _Findings, c: _Container, now: datetime, options: TriageOptions,
                        sidecar: bool, ready_message: str | None) -> None:
    v = c.verdict
    kind = "init container" if v.init else "container"
    if v.state == ContainerState.WAITING.value and v.reason and v.reason not in STARTING_WAITING:
        last = v.last_reason or (f"exit code {v.last_exit_code}" if v.last_exit_code is not None else None)
        if v.reason in FAILING_WAITING:
            message = v.message or v.reason
            if v.reason == "CrashLoopBackOff" and last:
                code = f", exit code {v.last_exit_code}" if v.last_exit_code is not None else ""
                message = f"{message} (last exit: {v.last_reason or 'Error'}{code})"
            found.add(v.name, v.reason, message, Health.FAILING, v.last_exit_code)
        else:
            found.add(v.name, v.reason, v.message, Health.DEGRADED)
        if v.last_reason == "OOMKilled":
            ago = f" {since(v.last_finished_at, now)} ago" if v.last_finished_at else ""
            found.add(v.name, "OOMKilled",
                      f"{kind} {v.name} was OOMKilled{ago} (exit code {v.last_exit_code}), "
                      f"{v.restart_count} restarts; now {v.reason}", Health.FAILING, v.last_exit_code)
        return
    if v.state == ContainerState.TERMINATED.value:
        if v.exit_code == 0 and v.reason in (None, "Completed"):
            return
        reason = _terminated_reason(v, c.signal)
        message = v.message or f"{kind} {v.name} terminated with exit code {v.exit_code}"
        found.add(v.name, reason, message, Health.FAILING, v.exit_code)
        return
    if v.state != ContainerState.RUNNING.value:
        return
    if (not v.init or sidecar) and v.ready is False:
        young = v.started_at is not None and (now - v.started_at) < options.ready_grace
        message = ready_message or f"{kind} {v.name} is running but not ready"
        found.add(v.name, "NotReady", message, Health.INITIALIZING if young else Health.DEGRADED)
    abnormal = v.last_reason not in (None, "Completed") or v.last_exit_code not in (None, 0)
    if v.restart_count and abnormal and v.last_finished_at is not None:
        elapsed = now - v.last_finished_at
        if elapsed <= options.recent_restart:
            reason = v.last_reason or f"ExitCode:{v.last_exit_code}"
            found.add(v.name, reason, f"{kind} {v.name} restarted {human_duration(elapsed.total_seconds())} ago "
                      f"after {reason} (exit code {v.last_exit_code})", Health.DEGRADED, v.last_exit_code)


def _young_or_stuck(found: _Findings, reason: str, message: str, start: datetime | None, now: datetime,
                    options: TriageOptions) -> None:
    elapsed = None if start is None else now - start
    if elapsed is not None and elapsed > options.stuck_after:
        found.add(None, reason, f"{message} for {human_duration(elapsed.total_seconds())}, longer than "
                  f"{human_duration(options.stuck_after.total_seconds())}", Health.DEGRADED)
    else:
        found.add(None, reason, message, Health.INITIALIZING)


def _event_findings(found: _Findings, events: Sequence[Mapping[str, Any]], pod: str) -> None:
    seen: set[tuple[str | None, str, str | None]] = set()
    for i, event in enumerate(events):
        try:
            if not isinstance(event, Mapping):
                raise MalformedPod(f"events[{i}]")
            if as_text(event.get("type"), f"events[{i}].type") != "Warning":
                continue
            reason = as_text(event.get("reason"), f"events[{i}].reason") or "Warning"
            message = as_message(event.get("message"), f"events[{i}].message")
            path = as_text(get_map(event, "involvedObject", f"events[{i}].involvedObject").get("fieldPath"),
                           f"events[{i}].involvedObject.fieldPath")
        except MalformedPod as bad:
            log.warning("pod_event_malformed", pod=pod, field=bad.field)
            continue
        match = _FIELD_PATH.fullmatch(path or "")
        container = match.group(1) if match else None
        if (container, reason, message) in seen:
            continue
        seen.add((container, reason, message))
        found.add(container, reason, message, None)


def _attention(bucket: Health, top: Issue | None, restarts: int, last_restart: datetime | None,
               created: datetime | None, now: datetime) -> int:
    recency = 0
    if restarts and last_restart is not None:
        ago = (now - last_restart).total_seconds()
        recency = 4 if ago <= 600 else 3 if ago <= 3600 else 2 if ago <= 6 * 3600 else 1 if ago <= 86400 else 0
    restart_score = recency * 1000 + min(max(restarts, 0), 999)
    age = max(0.0, (now - created).total_seconds()) if created is not None else 0.0
    age_score = min(999, int(100 * math.log10(1 + age)))
    sev = min(max(top.severity, 0), 99) if top is not None else 0
    return RANK[bucket] * _BUCKET_WEIGHT + sev * _SEVERITY_WEIGHT + restart_score * _RESTART_WEIGHT + age_score


def triage(pod: Mapping[str, Any], events: Sequence[Mapping[str, Any]] = (), *, now: datetime,
           options: TriageOptions = TriageOptions()) -> Verdict:
    """The verdict for ``pod`` (a raw API dict) and its Events (raw dicts), as of ``now``.

    :raises MalformedPod: a field of the pod has the wrong type (the exception names it).
    """
    if not isinstance(pod, Mapping):
        raise MalformedPod("object")
    now = _aware(now)
    kubectl = pod_status(pod)
    meta = get_map(pod, "metadata", "metadata")
    spec = get_map(pod, "spec", "spec")
    status = get_map(pod, "status", "status")
    name = as_text(meta.get("name"), "metadata.name")
    if not name:
        raise MalformedPod("metadata.name")
    namespace = as_text(meta.get("namespace"), "metadata.namespace")
    created = as_time(meta.get("creationTimestamp"), "metadata.creationTimestamp")
    deleting = as_time(meta.get("deletionTimestamp"), "metadata.deletionTimestamp")
    grace = as_int(meta.get("deletionGracePeriodSeconds"), "metadata.deletionGracePeriodSeconds")
    if grace is None:
        grace = as_int(spec.get("terminationGracePeriodSeconds"), "spec.terminationGracePeriodSeconds")
    if grace is None:
        grace = 30  # the API server's default terminationGracePeriodSeconds
    labels = {}
    for key, value in as_map(meta.get("labels"), "metadata.labels").items():
        if type(key) is not str or type(value) is not str:
            raise MalformedPod("metadata.labels")
        labels[key] = value
    owner_kind = owner_name = None
    owners = as_maps(meta.get("ownerReferences"), "metadata.ownerReferences")
    if owners:
        owner = next((o for o in owners if o.get("controller") is True), owners[0])
        owner_kind = as_text(owner.get("kind"), "metadata.ownerReferences.kind")
        owner_name = as_text(owner.get("name"), "metadata.ownerReferences.name")
    phase = as_text(status.get("phase"), "status.phase")
    pod_reason = as_text(status.get("reason"), "status.reason")
    pod_message = as_message(status.get("message"), "status.message")
    start_time = as_time(status.get("startTime"), "status.startTime")
    conditions: dict[str, tuple[str | None, str | None, str | None, datetime | None]] = {}
    for cond in as_maps(status.get("conditions"), "status.conditions"):
        kind = as_text(cond.get("type"), "status.conditions.type")
        if kind and kind not in conditions:
            conditions[kind] = (
                as_text(cond.get("status"), "status.conditions.status"),
                as_text(cond.get("reason"), "status.conditions.reason"),
                as_message(cond.get("message"), "status.conditions.message"),
                as_time(cond.get("lastTransitionTime"), "status.conditions.lastTransitionTime"),
            )

    init_specs = _spec_containers(spec, "initContainers")
    regular_specs = _spec_containers(spec, "containers")
    sidecars = {n for n, _, sidecar in init_specs if sidecar}
    init_images = {n: image for n, image, _ in init_specs}
    images = {n: image for n, image, _ in regular_specs}
    inits = [_container(cs, "status.initContainerStatuses", True, init_images)
             for cs in as_maps(status.get("initContainerStatuses"), "status.initContainerStatuses")]
    regular = [_container(cs, "status.containerStatuses", False, images)
               for cs in as_maps(status.get("containerStatuses"), "status.containerStatuses")]
    verdicts = [c.verdict for c in (*inits, *regular)]
    reported = {(v.name, v.init) for v in verdicts}
    for specs, init in ((init_specs, True), (regular_specs, False)):
        for cname, image, _ in specs:
            if (cname, init) not in reported:
                verdicts.append(ContainerVerdict(cname, init, image, None, None, None, None, None, None, 0,
                                                 None, None, None, None))

    initialized = conditions.get("Initialized", (None,))[0] == "True"
    last_restart = _last_restart(inits, regular, sidecars, not kubectl.initializing or initialized)
    restarts_text = (f"{kubectl.restarts} ({since(last_restart, now)} ago)"
                     if kubectl.restarts and last_restart is not None else str(kubectl.restarts))

    found = _Findings()
    unknown = kubectl.status == "Unknown" or phase == "Unknown"
    if unknown or pod_reason in FAILING_POD_REASONS or (phase == "Failed" and pod_reason):
        found.add(None, pod_reason or "Unknown", pod_message or f"pod {name} is {kubectl.status}", Health.FAILING)
    settled = phase in ("Succeeded", "Failed")
    if deleting is not None and not settled and not unknown:
        if (now - deleting).total_seconds() > grace:
            found.add(None, "Terminating", f"deletion was due {since(deleting, now)} ago and the grace period "
                      f"({grace}s) is over", Health.DEGRADED)
    elif phase != "Succeeded" and not unknown:
        scheduled = conditions.get("PodScheduled")
        ready_message = conditions.get("Ready", (None, None, None, None))[2]
        for c in (*inits, *regular):
            _container_findings(found, c, now, options, c.verdict.name in sidecars, ready_message)
        text = kubectl.status
        base = text[5:] if text.startswith("Init:") else text
        gated = text == "SchedulingGated" or (scheduled is not None and scheduled[1] == "SchedulingGated")
        scheduled_at = scheduled[3] if scheduled is not None and scheduled[0] == "True" else None
        if gated:
            _young_or_stuck(found, "SchedulingGated", "waiting for scheduling gates", created, now, options)
        elif scheduled is not None and scheduled[0] == "False":
            reason = scheduled[1] or "Unschedulable"
            _young_or_stuck(found, reason, scheduled[2] or "the pod cannot be scheduled",
                            scheduled[3] or created, now, options)
        elif (progress := _INIT_PROGRESS.fullmatch(text)) is not None:
            index, total = int(progress.group(1)), int(progress.group(2))
            current = inits[index].verdict.name if index < len(inits) else None
            what = f" ({current})" if current else ""
            _young_or_stuck(found, "Initializing", f"init container {index + 1} of {total}{what} has not "
                            "finished", start_time or created, now, options)
        elif base == "ContainerCreating":
            _young_or_stuck(found, "ContainerCreating", "containers are being created",
                            scheduled_at or start_time or created, now, options)
        elif base == "PodInitializing":
            init_done = conditions.get("Initialized", (None, None, None, None))
            _young_or_stuck(found, "PodInitializing", "containers are starting after the init containers",
                            (init_done[3] if init_done[0] == "True" else None) or start_time or created, now,
                            options)
        elif text == "Pending":
            _young_or_stuck(found, "Pending", "the pod has not started", scheduled_at or created, now, options)
    if phase == "Failed" and not found.items:
        found.add(None, "Failed", pod_message or f"pod {name} failed", Health.FAILING)
    _event_findings(found, events, f"{namespace}/{name}")

    buckets = [bucket for _, bucket in found.items if bucket is not None]
    bucket = max(buckets, key=RANK.__getitem__) if buckets else Health.HEALTHY
    if RANK[bucket] == 0:
        bucket = Health.COMPLETED if phase == "Succeeded" or kubectl.status == "Completed" else Health.HEALTHY
    if phase == "Failed":
        bucket = Health.FAILING
    issues = sorted((issue for issue, _ in found.items), key=lambda issue: -issue.severity)
    top = issues[0] if issues else None
    return Verdict(
        name=name,
        namespace=namespace,
        status=kubectl.status,
        ready=kubectl.ready_text,
        ready_count=kubectl.ready,
        container_count=kubectl.total,
        restarts=kubectl.restarts,
        restarts_text=restarts_text,
        last_restart_at=last_restart,
        health=bucket,
        attention=_attention(bucket, top, kubectl.restarts, last_restart, created, now),
        top=top,
        issues=tuple(issues),
        containers=tuple(verdicts),
        phase=phase,
        node=as_text(spec.get("nodeName"), "spec.nodeName"),
        owner_kind=owner_kind,
        owner_name=owner_name,
        uid=as_text(meta.get("uid"), "metadata.uid"),
        created_at=created,
        deletion_requested_at=deleting,
        labels=labels,
    )


def attention_key(verdict: Verdict) -> tuple[int, str, str]:
    """Sort key, most urgent first: ``sorted(verdicts, key=attention_key)`` (ties by namespace, name)."""
    return (-verdict.attention, verdict.namespace or "", verdict.name)
