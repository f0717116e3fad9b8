"""Nautilus's database layer: engines and sessions, the tables of all five jobs, bulk writes, migrations.

SQLite by default, PostgreSQL in production. Imported by the inventory synchronizer, the controller
and reconcilers, podwatch and the CLI (``nautilus db upgrade`` calls :func:`upgrade`). Layers below
(``config``, ``errors``, ``logs``) are the only Nautilus modules it imports.

>>> from nautilus_core.db import make_engine, session_scope, upgrade, ManagedResource
>>> engine = make_engine("sqlite://")
>>> upgrade(engine) == head_revision()
True
>>> with session_scope(engine) as session:
...     session.add(ManagedResource(team="payments", name="ledger", engine="postgres"))
"""

from __future__ import annotations

from nautilus_core.db.engine import engine_from_settings, make_engine, redacted, session_scope
from nautilus_core.db.migrate import check_schema, current_revision, downgrade, head_revision, upgrade
from nautilus_core.db.models import (
    SPEC_COLUMNS,
    SYNCED_COLUMNS,
    USER_OWNED_CLUSTER_COLUMNS,
    AuditLog,
    Cluster,
    Container,
    ContainerState,
    DesiredState,
    Health,
    JobAction,
    JobStatus,
    LifecycleMode,
    LogLevel,
    LogLine,
    ManagedResource,
    Namespace,
    NautilusTable,
    Node,
    OutcomeStatus,
    Pod,
    PodEvent,
    ProvisioningJob,
    ResourceStatus,
    Service,
    SyncOutcome,
    SyncRun,
    SyncRunStatus,
    metadata,
)
from nautilus_core.db.models.inventory import kind_table
from nautilus_core.db.types import JSONDocument, UTCDateTime, instant, utcnow
from nautilus_core.db.upsert import UpsertResult, purge, row_hash, tombstone, touch, upsert

__all__ = [
    "SPEC_COLUMNS",
    "SYNCED_COLUMNS",
    "USER_OWNED_CLUSTER_COLUMNS",
    "AuditLog",
    "Cluster",
    "Container",
    "ContainerState",
    "DesiredState",
    "Health",
    "JSONDocument",
    "JobAction",
    "JobStatus",
    "LifecycleMode",
    "LogLevel",
    "LogLine",
    "ManagedResource",
    "Namespace",
    "NautilusTable",
    "Node",
    "OutcomeStatus",
    "Pod",
    "PodEvent",
    "ProvisioningJob",
    "ResourceStatus",
    "Service",
    "SyncOutcome",
    "SyncRun",
    "SyncRunStatus",
    "UTCDateTime",
    "UpsertResult",
    "check_schema",
    "current_revision",
    "downgrade",
    "engine_from_settings",
    "head_revision",
    "instant",
    "kind_table",
    "make_engine",
    "metadata",
    "purge",
    "redacted",
    "row_hash",
    "session_scope",
    "tombstone",
    "touch",
    "upgrade",
    "upsert",
    "utcnow",
]
