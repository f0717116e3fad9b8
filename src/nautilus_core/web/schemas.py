"""The dashboard API's response documents, as pydantic models (they make the OpenAPI schema).

Owns the shapes of ``/api/v1/pods`` (:class:`PodPage` of :class:`PodItem`), ``/api/v1/pods/{id}``
(:class:`PodDetail`), ``/api/v1/pods/{id}/logs`` (:class:`LogPage`), ``/api/v1/summary``
(:class:`Summary`), ``/api/v1/config`` and ``/healthz``. ``web.routes`` declares them as response
models; the documents themselves are built by ``web.queries`` and serialised with orjson.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from nautilus_core.db.models import Health, LogLevel


class TopIssue(BaseModel):
    """The most urgent problem of a pod: which container, kubectl's reason, the message, a hint."""

    container: str | None
    reason: str | None
    message: str | None
    hint: str | None


class LogCounts(BaseModel):
    error: int
    warning: int
    exception: int


class PodItem(BaseModel):
    id: int
    cluster: str
    cluster_key: str
    namespace: str
    name: str
    phase: str | None
    status: str | None = Field(description="kubectl's STATUS column")
    ready: str | None = Field(description="kubectl's READY column, e.g. 1/2")
    restarts: int
    restarts_text: str | None = Field(description="kubectl's RESTARTS column as of last_seen_at")
    last_restart_at: datetime | None
    node: str | None
    owner_kind: str | None
    owner_name: str | None
    created_at: datetime | None
    deletion_requested_at: datetime | None
    health: Health
    attention: int = Field(description="triage score: higher needs a human sooner")
    top: TopIssue | None
    log_counts: LogCounts
    last_seen_at: datetime
    deleted_at: datetime | None
    gone: bool = Field(description="the pod vanished; its last state is kept for the retention period")


class PodPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[PodItem]


class ContainerItem(BaseModel):
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
    log_error: str | None
    log_counts: LogCounts


class EventItem(BaseModel):
    type: str | None
    reason: str | None
    message: str | None
    count: int
    first_at: datetime | None
    last_at: datetime | None
    source: str | None


class Problem(BaseModel):
    container: str | None
    message: str


class PodDetail(PodItem):
    uid: str | None
    labels: dict[str, str]
    first_seen_at: datetime
    ready_count: int | None
    container_count: int | None
    problems: list[Problem]
    containers: list[ContainerItem]
    events: list[EventItem]


class LogEntry(BaseModel):
    id: int
    container: str
    previous: bool
    ts: datetime | None
    seq: int
    level: LogLevel
    text: str


class LevelCounts(BaseModel):
    info: int
    warning: int
    error: int
    exception: int


class LogPage(BaseModel):
    pod_id: int
    total: int
    limit: int
    offset: int
    counts: LevelCounts
    items: list[LogEntry]


class HealthCounts(BaseModel):
    failing: int
    degraded: int
    initializing: int
    healthy: int
    completed: int


class ClusterCounts(BaseModel):
    cluster: str
    total: int
    health: HealthCounts


class NamespaceCounts(ClusterCounts):
    namespace: str


class Summary(BaseModel):
    total: int = Field(description="live pods matching the filters")
    health: HealthCounts
    gone: int = Field(description="pods that vanished and are kept as history")
    clusters: list[ClusterCounts]
    namespaces: list[NamespaceCounts]


class UiConfig(BaseModel):
    pods_refresh_seconds: float
    logs_refresh_seconds: float
    page_size: int
    auth: bool


class HealthStatus(BaseModel):
    status: str
    checks: dict[str, str]


class ErrorDocument(BaseModel):
    detail: str
