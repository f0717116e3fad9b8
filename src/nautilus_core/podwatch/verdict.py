"""The types of a pod triage verdict: options, issues, container rows and the verdict itself.

Owns :class:`TriageOptions`, :class:`Issue`, :class:`ContainerVerdict`, :class:`Verdict` and :data:`RANK`
(how urgent each health bucket is). Built by :func:`nautilus_core.podwatch.triage.triage` (which re-exports
them); read by the collector, whose ``pod`` and ``container`` rows are their fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from nautilus_core.db.models.podwatch import Health

__all__ = ["RANK", "ContainerVerdict", "Issue", "TriageOptions", "Verdict"]

#: how urgent each bucket is: failing > degraded > initializing > healthy = completed
RANK = {Health.FAILING: 3, Health.DEGRADED: 2, Health.INITIALIZING: 1, Health.HEALTHY: 0, Health.COMPLETED: 0}


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
    """One problem of a pod; ``container`` is None for the pod itself; ``severity`` 0..99 (bigger: sooner)."""

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
    """Everything triage says about one pod (the row of table ``pod``); ``issues`` most severe first,
    ``top`` the first of them."""

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
