"""Pod triage tables: pods with their health verdict, their containers, and classified log lines.

Written by the podwatch collector (bulk upserts keyed by cluster/namespace/name, then the pod's
containers and recent log lines replaced), read by the dashboard API, which lists pods by
``attention`` (highest first) and filters log lines by ``level``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint

from nautilus_core.db.models.base import NautilusTable, fk_id, id_field, json_field, ts_field

__all__ = ["Container", "ContainerState", "LogLevel", "LogLine", "Pod"]


class ContainerState(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    TERMINATED = "terminated"


class LogLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    EXCEPTION = "exception"


class Pod(NautilusTable, table=True):
    """A pod as last collected; ``status`` is kubectl's STATUS column, ``ready`` its READY ("1/2")."""

    __tablename__ = "pod"
    __table_args__ = (
        UniqueConstraint("cluster", "namespace", "name", name="uq_pod_cluster_namespace_name"),
        Index("ix_pod_attention", "attention"),
    )

    id: int | None = id_field()
    cluster: str
    namespace: str
    name: str
    uid: str | None = None
    phase: str | None = None
    status: str | None = None
    ready: str | None = None
    ready_count: int | None = None
    container_count: int | None = None
    restarts: int | None = None
    node: str | None = None
    owner_kind: str | None = None
    owner_name: str | None = None
    #: Kubernetes creationTimestamp
    created_at: datetime | None = ts_field()
    #: triage score: higher needs a human sooner
    attention: int = 0
    root_cause: str | None = None
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
    restart_count: int = 0
    last_reason: str | None = None
    last_exit_code: int | None = None
    last_finished_at: datetime | None = ts_field()


class LogLine(NautilusTable, table=True):
    """A recent log line of a container, classified by level; ``seq`` keeps the original order."""

    __tablename__ = "log_line"
    __table_args__ = (Index("ix_log_line_pod_id_level", "pod_id", "level"),)

    id: int | None = id_field()
    pod_id: int = fk_id("pod.id")
    container: str
    ts: datetime | None = ts_field()
    seq: int
    #: info | warning | error | exception (``LogLevel``)
    level: str = LogLevel.INFO.value
    text: str
