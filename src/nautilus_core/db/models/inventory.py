"""Fleet inventory tables: clusters and what lives in them, plus the record of each sync run.

Written by the inventory synchronizer (bulk upserts through ``db.upsert``), read by the CLI and any
reporting. Every synced row carries ``first_seen_at``, ``last_seen_at``, ``deleted_at`` (tombstone;
``NULL`` while the object exists) and ``data_hash`` (a hash of the synced fields, see
``db.upsert.row_hash``) so an unchanged object costs only a bulk ``last_seen_at`` touch.

The cluster's ``owner``, ``team``, ``notes`` and ``tags`` belong to users: the synchronizer never
lists them among the columns it updates (``USER_OWNED_CLUSTER_COLUMNS``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, MetaData, String, Table, UniqueConstraint

from nautilus_core.db.models.base import NAMING_CONVENTION, NautilusTable, fk_id, id_field, json_field, ts_field
from nautilus_core.db.types import Id, UTCDateTime, utcnow

__all__ = [
    "SYNCED_COLUMNS",
    "USER_OWNED_CLUSTER_COLUMNS",
    "Cluster",
    "Namespace",
    "Node",
    "OutcomeStatus",
    "Service",
    "SyncOutcome",
    "SyncRun",
    "SyncRunStatus",
    "kind_table",
]

#: Bookkeeping columns of every synced table (not part of ``data_hash``).
SYNCED_COLUMNS = ("first_seen_at", "last_seen_at", "deleted_at", "data_hash")
#: Cluster columns only users write; sync must leave them out of its ``update`` list.
USER_OWNED_CLUSTER_COLUMNS = ("owner", "team", "notes", "tags")


class SyncRunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    #: the process died while running (recognised by a later run or when listing runs)
    INTERRUPTED = "interrupted"


class OutcomeStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class Cluster(NautilusTable, table=True):
    """One Kubernetes cluster as discovered by a provider; ``key`` is provider/account/location/name."""

    __tablename__ = "cluster"
    __table_args__ = (
        UniqueConstraint("key", name="uq_cluster_key"),
        Index("ix_cluster_provider", "provider"),
    )

    id: int | None = id_field()
    key: str
    provider: str
    account: str = ""
    location: str = ""
    name: str
    kubernetes_version: str | None = None
    status: str | None = None
    endpoint: str | None = None
    node_count: int | None = None
    ready_node_count: int | None = None
    #: kubectl STATUS text -> number of pods (Running, CrashLoopBackOff, ...)
    pod_counts: dict[str, int] | None = json_field()
    labels: dict[str, str] | None = json_field()
    #: problems found by enrichers (list of {"enricher", "message"} documents)
    problems: list[dict[str, Any]] | None = json_field()
    # user-owned: never written by sync
    owner: str | None = None
    team: str | None = None
    notes: str | None = None
    tags: list[str] | None = json_field()
    # sync bookkeeping
    first_seen_at: datetime = ts_field(nullable=False, default_now=True)
    last_seen_at: datetime = ts_field(nullable=False, default_now=True)
    deleted_at: datetime | None = ts_field()
    data_hash: str = ""


class Namespace(NautilusTable, table=True):
    __tablename__ = "namespace"
    __table_args__ = (UniqueConstraint("cluster_id", "name", name="uq_namespace_cluster_id_name"),)

    id: int | None = id_field()
    cluster_id: int = fk_id("cluster.id")
    name: str
    phase: str | None = None
    labels: dict[str, str] | None = json_field()
    pod_counts: dict[str, int] | None = json_field()
    #: Kubernetes creationTimestamp
    created_at: datetime | None = ts_field()
    first_seen_at: datetime = ts_field(nullable=False, default_now=True)
    last_seen_at: datetime = ts_field(nullable=False, default_now=True)
    deleted_at: datetime | None = ts_field()
    data_hash: str = ""


class Node(NautilusTable, table=True):
    __tablename__ = "node"
    __table_args__ = (UniqueConstraint("cluster_id", "name", name="uq_node_cluster_id_name"),)

    id: int | None = id_field()
    cluster_id: int = fk_id("cluster.id")
    name: str
    ready: bool | None = None
    memory_pressure: bool | None = None
    disk_pressure: bool | None = None
    pid_pressure: bool | None = None
    unschedulable: bool | None = None
    kubelet_version: str | None = None
    instance_type: str | None = None
    zone: str | None = None
    capacity: dict[str, str] | None = json_field()
    allocatable: dict[str, str] | None = json_field()
    labels: dict[str, str] | None = json_field()
    first_seen_at: datetime = ts_field(nullable=False, default_now=True)
    last_seen_at: datetime = ts_field(nullable=False, default_now=True)
    deleted_at: datetime | None = ts_field()
    data_hash: str = ""


class Service(NautilusTable, table=True):
    __tablename__ = "service"
    __table_args__ = (
        UniqueConstraint("cluster_id", "namespace", "name", name="uq_service_cluster_id_namespace_name"),
    )

    id: int | None = id_field()
    cluster_id: int = fk_id("cluster.id")
    namespace: str
    name: str
    type: str | None = None
    cluster_ip: str | None = None
    ports: list[dict[str, Any]] | None = json_field()
    external_address: str | None = None
    labels: dict[str, str] | None = json_field()
    first_seen_at: datetime = ts_field(nullable=False, default_now=True)
    last_seen_at: datetime = ts_field(nullable=False, default_now=True)
    deleted_at: datetime | None = ts_field()
    data_hash: str = ""


class SyncRun(NautilusTable, table=True):
    """One ``nautilus inventory sync`` invocation (or one shard of it)."""

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_started_at", "started_at"),)

    id: int | None = id_field()
    started_at: datetime = ts_field(nullable=False, default_now=True)
    finished_at: datetime | None = ts_field()
    #: running | succeeded | partial | failed | interrupted (``SyncRunStatus``)
    status: str = SyncRunStatus.RUNNING.value
    #: what was asked: {"providers": [...], "contexts": [...]}
    scope: dict[str, Any] | None = json_field()
    counts: dict[str, Any] | None = json_field()
    error: str | None = None
    #: "i/n" when the fleet is sharded across jobs
    shard: str | None = None
    #: refreshed while the run is alive; a ``running`` run whose heartbeat is stale has died
    heartbeat_at: datetime | None = ts_field()
    #: where the run executes (hostname, process id): a dead process on this host is recognised at once
    host: str | None = None
    pid: int | None = None


class SyncOutcome(NautilusTable, table=True):
    """The result of one provider (``cluster_key`` NULL) or one cluster within a sync run."""

    __tablename__ = "sync_outcome"
    __table_args__ = (Index("ix_sync_outcome_run_id", "run_id"),)

    id: int | None = id_field()
    run_id: int = fk_id("sync_run.id")
    provider: str
    cluster_key: str | None = None
    #: ok | failed | skipped (``OutcomeStatus``)
    status: str
    error: str | None = None
    #: {"node": {"inserted": 1, "updated": 0, "unchanged": 5, "tombstoned": 0}, ...}
    counts: dict[str, Any] | None = json_field()
    duration_s: float | None = None
    started_at: datetime | None = ts_field()


def kind_table(name: str, key: tuple[str, ...], *columns: Column[Any], metadata: MetaData | None = None) -> Table:
    """The table of a plugin's inventory kind: ``id``, ``cluster_id``, the ``key`` columns (strings),
    the data ``columns`` and the synchronizer's bookkeeping, unique on ``(cluster_id, *key)``.

    The table lives in ``metadata`` (a new one by default, never the core's: a plugin's tables are
    created by its own migrations). Its ``cluster_id`` names no foreign key here, so the table can be
    used without the core's; the plugin's migration declares it (``ON DELETE CASCADE``).

    >>> ingress = kind_table("ingress", ("namespace", "name"), Column("host", String))
    >>> [c.name for c in ingress.columns][:5]
    ['id', 'cluster_id', 'namespace', 'name', 'host']
    """
    return Table(
        name, metadata if metadata is not None else MetaData(naming_convention=NAMING_CONVENTION),
        Column("id", Id(), primary_key=True),
        Column("cluster_id", Id(), nullable=False),
        *(Column(k, String(), nullable=False) for k in key),
        *columns,
        Column("first_seen_at", UTCDateTime(), nullable=False, default=utcnow),
        Column("last_seen_at", UTCDateTime(), nullable=False, default=utcnow),
        Column("deleted_at", UTCDateTime()),
        Column("data_hash", String(), nullable=False, default=""),
        UniqueConstraint("cluster_id", *key),
    )
