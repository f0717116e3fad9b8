"""Pod triage tables: pods with their health verdict, their containers, Events and classified logs.

Written by the podwatch collector (``nautilus_core.podwatch.collect``: bulk upserts keyed by
cluster/namespace/name, then each pod's containers, Events and new log lines), read by the dashboard
API (``nautilus_core.web``), which lists pods by ``attention`` (highest first) and filters log lines
by ``level``. A pod belongs to the same ``cluster`` row as the inventory's, so one cluster has one
identity across jobs. A pod that vanished keeps its last verdict, top issue and last lines, with
``deleted_at`` set (shown as gone), until the retention purges it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint

from nautilus_core.db.models.base import NautilusTable, fk_id, id_field, json_field, ts_field

__all__ = ["Container", "ContainerState", "Health", "LogLevel", "LogLine", "Pod", "PodEvent"]


class ContainerState(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    TERMINATED = "terminated"


class LogLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    EXCEPTION = "exception"


class Health(StrEnum):
    """Triage bucket of a pod, most urgent first."""

    FAILING = "failing"
    DEGRADED = "degraded"
    INITIALIZING = "initializing"
    HEALTHY = "healthy"
    COMPLETED = "completed"


class Pod(NautilusTable, table=True):
    """A pod as last collected; ``status`` is kubectl's STATUS column, ``ready`` its READY ("1/2"),
    ``restarts_text`` its RESTARTS ("3 (5m ago)" as of ``last_seen_at``)."""

    __tablename__ = "pod"
    __table_args__ = (
        UniqueConstraint("cluster_id", "namespace", "name", name="uq_pod_cluster_id_namespace_name"),
        Index("ix_pod_attention", "attention"),
        Index("ix_pod_cluster_id_namespace", "cluster_id", "namespace"),
    )

    id: int | None = id_field()
    cluster_id: int = fk_id("cluster.id")
    namespace: str
    name: str
    uid: str | None = None
    phase: str | None = None
    status: str | None = None
    ready: str | None = None
    ready_count: int | None = None
    container_count: int | None = None
    restarts: int | None = None
    restarts_text: str | None = None
    last_restart_at: datetime | None = ts_field()
    node: str | None = None
    owner_kind: str | None = None
    owner_name: str | None = None
    #: Kubernetes creationTimestamp / deletionTimestamp (a pod being deleted is "Terminating")
    created_at: datetime | None = ts_field()
    deletion_requested_at: datetime | None = ts_field()
    #: failing | degraded | initializing | healthy | completed (``Health``)
    health: str = Health.HEALTHY.value
    #: triage score: higher needs a human sooner
    attention: int = 0
    #: the most urgent problem: which container, kubectl's reason, the message, a one-line hint
    top_container: str | None = None
    top_reason: str | None = None
    top_message: str | None = None
    top_hint: str | None = None
    error_count: int = 0
    warning_count: int = 0
    exception_count: int = 0
    #: what the collector could not read for this pod ({"container", "message"} documents)
    problems: list[dict[str, Any]] | None = json_field()
    labels: dict[str, str] | None = json_field()
    first_seen_at: datetime = ts_field(nullable=False, default_now=True)
    last_seen_at: datetime = ts_field(nullable=False, default_now=True)
    deleted_at: datetime | None = ts_field()
    data_hash: str = ""


class Container(NautilusTable, table=True):
    """One (init) container of a pod; ``last_*`` come from ``lastState.terminated``."""

    __tablename__ = "container"
    __table_args__ = (UniqueConstraint("pod_id", "name", "init", name="uq_container_pod_id_name_init"),)

    id: int | None = id_field()
    pod_id: int = fk_id("pod.id")
    name: str
    init: bool = False
    image: str | None = None
    ready: bool | None = None
    #: waiting | running | terminated (``ContainerState``)
    state: str | None = None
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None
    started_at: datetime | None = ts_field()
    restart_count: int = 0
    last_reason: str | None = None
    last_message: str | None = None
    last_exit_code: int | None = None
    last_finished_at: datetime | None = ts_field()
    error_count: int = 0
    warning_count: int = 0
    exception_count: int = 0
    #: why this container's log could not be read on the last collection, if it could not
    log_error: str | None = None


class LogLine(NautilusTable, table=True):
    """A recent log entry of a container, classified by level; a multi-line stack trace is one entry.
    ``previous``: from the container's previous instance (before its last restart). ``fingerprint``
    identifies the entry across runs (deduplication); ``seq`` keeps the original order."""

    __tablename__ = "log_line"
    __table_args__ = (
        UniqueConstraint("pod_id", "container", "fingerprint", name="uq_log_line_pod_id_container_fingerprint"),
        Index("ix_log_line_pod_id_level", "pod_id", "level"),
        Index("ix_log_line_pod_id_seq", "pod_id", "seq"),
    )

    id: int | None = id_field()
    pod_id: int = fk_id("pod.id")
    container: str
    previous: bool = False
    ts: datetime | None = ts_field()
    seq: int
    #: info | warning | error | exception (``LogLevel``)
    level: str = LogLevel.INFO.value
    text: str
    fingerprint: str


class PodEvent(NautilusTable, table=True):
    """A Kubernetes Event about a pod (``involvedObject``), e.g. Warning FailedScheduling / BackOff."""

    __tablename__ = "pod_event"
    __table_args__ = (UniqueConstraint("pod_id", "uid", name="uq_pod_event_pod_id_uid"),)

    id: int | None = id_field()
    pod_id: int = fk_id("pod.id")
    uid: str
    #: Normal | Warning
    type: str | None = None
    reason: str | None = None
    message: str | None = None
    count: int = 1
    first_at: datetime | None = ts_field()
    last_at: datetime | None = ts_field()
    #: reporting component (``source.component`` / ``reportingController``)
    source: str | None = None
