"""Pod triage: one pod's verdict (kubectl's STATUS/READY/RESTARTS, health bucket, attention, top issue).

Interface commit; the rules land in the next commits. Called by the podwatch collector for every pod.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nautilus_core.db.models.podwatch import Health
from nautilus_core.podstatus import MalformedPod

__all__ = ["ContainerVerdict", "Issue", "MalformedPod", "TriageOptions", "Verdict", "attention_key", "triage"]


@dataclass(frozen=True)
class TriageOptions:
    #: initializing (ContainerCreating, PodInitializing, Init:i/N, Pending) -> degraded after this long
    stuck_after: timedelta = timedelta(minutes=5)
    #: a running container not ready for less than this (since it started) is still initializing
    ready_grace: timedelta = timedelta(seconds=30)
    #: a running pod whose container terminated abnormally less than this ago is degraded
    recent_restart: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Issue:
    container: str | None
    reason: str
    message: str | None
    hint: str | None
    severity: int


@dataclass(frozen=True)
class ContainerVerdict:
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


def triage(pod: Mapping[str, Any], events: Sequence[Mapping[str, Any]] = (), *, now: datetime,
           options: TriageOptions = TriageOptions()) -> Verdict:
    """The verdict for ``pod`` (a raw API dict) and its Events, as of ``now``.

    :raises MalformedPod: a field has the wrong type (the exception names it).
    """
    raise NotImplementedError


def attention_key(verdict: Verdict) -> tuple[int, str, str]:
    """Sort key, most urgent first: ``sorted(verdicts, key=attention_key)``."""
    return (-verdict.attention, verdict.namespace or "", verdict.name)
