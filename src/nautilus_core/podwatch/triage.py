"""Pod triage: one pod's verdict (kubectl's columns, health bucket, attention score, top issue).

Owns :func:`triage` and :func:`attention_key` (and re-exports the verdict types of :mod:`.verdict`). Called by
the podwatch collector for every pod it reads (with the pod's Events); the ``pod`` and ``container`` rows are
the verdict's fields and the dashboard lists pods by ``attention``. Pure: no I/O, the clock is ``now``.

* STATUS / READY / RESTARTS are kubectl's (:func:`nautilus_core.podstatus.pod_status`); RESTARTS carries
  the age of the last restart like kubectl (``3 (5m ago)``, :func:`.reading.last_restart`, :mod:`.ages`).
* Buckets (:mod:`.findings`): **failing** (CrashLoopBackOff, ImagePullBackOff, ErrImagePull,
  CreateContainerConfigError, InvalidImageName...; an error exit; phase Failed; Evicted, NodeLost,
  Unknown), **degraded** (running but not ready; restarted abnormally within ``recent_restart``;
  Terminating past its deletion time plus grace period; ContainerCreating, PodInitializing, Init:i/N,
  Pending or unschedulable for longer than ``stuck_after``), **initializing** (those while young),
  **healthy**, **completed** (phase Succeeded).
* Each problem is an :class:`Issue` with a one-line hint (:mod:`.hints`); an OOMKilled ``lastState`` is its
  own issue and outranks the CrashLoopBackOff kubectl prints. Warning Events are issues too, never a bucket:
  a pod whose only signal is a FailedMount or FailedScheduling Event gets it as its top issue.
* ``attention`` (bigger = sooner): bucket, then the top issue's severity, then restarts (recent ones
  first, then more), then age (older first); it fits a 32-bit column.

A field of the wrong type raises :class:`~nautilus_core.podstatus.MalformedPod` naming it; a malformed Event
is skipped (and logged), so one bad Event never hides its pod.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from nautilus_core.db.models.podwatch import Health
from nautilus_core.podstatus import MalformedPod, pod_status, since
from nautilus_core.podwatch.findings import pod_findings
from nautilus_core.podwatch.reading import last_restart, read_pod
from nautilus_core.podwatch.verdict import RANK, ContainerVerdict, Issue, TriageOptions, Verdict

__all__ = ["RANK", "ContainerVerdict", "Issue", "MalformedPod", "TriageOptions", "Verdict", "attention_key",
           "triage"]

_BUCKET_WEIGHT, _SEVERITY_WEIGHT, _RESTART_WEIGHT = 500_000_000, 5_000_000, 1_000
DEFAULT_OPTIONS = TriageOptions()


def _attention(bucket: Health, top: Issue | None, restarts: int, restarted: datetime | None,
               created: datetime | None, now: datetime) -> int:
    recency = 0
    if restarts and restarted is not None:
        ago = (now - restarted).total_seconds()
        recency = 4 if ago <= 600 else 3 if ago <= 3600 else 2 if ago <= 6 * 3600 else 1 if ago <= 86400 else 0
    restart_score = recency * 1000 + min(max(restarts, 0), 999)
    age = max(0.0, (now - created).total_seconds()) if created is not None else 0.0
    age_score = min(999, int(100 * math.log10(1 + age)))
    sev = min(max(top.severity, 0), 99) if top is not None else 0
    return RANK[bucket] * _BUCKET_WEIGHT + sev * _SEVERITY_WEIGHT + restart_score * _RESTART_WEIGHT + age_score


def triage(pod: Mapping[str, Any], events: Sequence[Mapping[str, Any]] = (), *, now: datetime,
           options: TriageOptions = DEFAULT_OPTIONS) -> Verdict:
    """The verdict for ``pod`` (a raw API dict) and its Events (raw dicts), as of ``now`` (naive: UTC).

    :raises MalformedPod: a field of the pod has the wrong type (the exception names it).
    """
    if not isinstance(pod, Mapping):
        raise MalformedPod("object")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    kubectl = pod_status(pod)
    reading = read_pod(pod)
    restarted = last_restart(reading, kubectl.initializing)
    restarts_text = (f"{kubectl.restarts} ({since(restarted, now)} ago)"
                     if kubectl.restarts and restarted is not None else str(kubectl.restarts))
    found = pod_findings(reading, kubectl, events, now, options)
    buckets = [bucket for _, bucket in found.items if bucket is not None]
    bucket = max(buckets, key=RANK.__getitem__) if buckets else Health.HEALTHY
    if reading.phase == "Failed":
        bucket = Health.FAILING
    elif RANK[bucket] == 0:
        done = reading.phase == "Succeeded" or kubectl.status == "Completed"
        bucket = Health.COMPLETED if done else Health.HEALTHY
    issues = sorted((issue for issue, _ in found.items), key=lambda issue: -issue.severity)
    top = issues[0] if issues else None
    return Verdict(
        name=reading.name,
        namespace=reading.namespace,
        status=kubectl.status,
        ready=kubectl.ready_text,
        ready_count=kubectl.ready,
        container_count=kubectl.total,
        restarts=kubectl.restarts,
        restarts_text=restarts_text,
        last_restart_at=restarted,
        health=bucket,
        attention=_attention(bucket, top, kubectl.restarts, restarted, reading.created, now),
        top=top,
        issues=tuple(issues),
        containers=tuple(reading.containers),
        phase=reading.phase,
        node=reading.node,
        owner_kind=reading.owner_kind,
        owner_name=reading.owner_name,
        uid=reading.uid,
        created_at=reading.created,
        deletion_requested_at=reading.deleting,
        labels=reading.labels,
    )


def attention_key(verdict: Verdict) -> tuple[int, str, str]:
    """Sort key, most urgent first: ``sorted(verdicts, key=attention_key)`` (ties by namespace, name)."""
    return (-verdict.attention, verdict.namespace or "", verdict.name)
