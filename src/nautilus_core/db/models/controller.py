"""DB-driven controller tables: desired resources, the provisioning jobs run for them, the audit log.

Users (or their tools) write ``managed_resource`` rows, often in plain SQL, so its columns have SQL
defaults and its user-facing enumerations are guarded by CHECK constraints. The statefulsets
reconciler (``nautilus_core.reconcilers``) polls rows by ``updated_at``, writes the observed status
back, records ``provisioning_job`` rows and appends to ``audit_log``. The application bumps
``generation`` whenever one of ``SPEC_COLUMNS`` changes (``spec_hash`` helps detect that).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, false, text
from sqlmodel import Field

from nautilus_core.db.models.base import NautilusTable, fk_id, id_field, json_field, ts_field

__all__ = [
    "SPEC_COLUMNS",
    "AuditLog",
    "DesiredState",
    "JobAction",
    "JobStatus",
    "LifecycleMode",
    "ManagedResource",
    "ProvisioningJob",
    "ResourceStatus",
]


class LifecycleMode(StrEnum):
    FULL = "full"  # create, update, scale and delete
    OBSERVE = "observe"  # only report status
    MANUAL = "manual"  # leave alone


class DesiredState(StrEnum):
    PRESENT = "present"
    DELETED = "deleted"


class ResourceStatus(StrEnum):
    PENDING = "pending"
    PROVISIONING = "provisioning"
    READY = "ready"
    FAILED = "failed"
    DELETING = "deleting"
    DELETED = "deleted"


class JobAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SCALE = "scale"
    DELETE = "delete"


class JobStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the controller stopped (SIGTERM past the grace period) mid-action


#: The desired-state columns: a change to any of them bumps ``generation``.
SPEC_COLUMNS = (
    "engine",
    "image",
    "replicas",
    "storage_size",
    "cpu",
    "memory",
    "lifecycle_mode",
    "desired_state",
    "extra_spec",
)


def _sql_default(value: str) -> dict[str, Any]:
    return {"server_default": text(value)}


class ManagedResource(NautilusTable, table=True):
    """A stateful service a team wants (becomes a StatefulSet + Service), and what was observed."""

    __tablename__ = "managed_resource"
    __table_args__ = (
        UniqueConstraint("team", "name", name="uq_managed_resource_team_name"),
        Index("ix_managed_resource_updated_at", "updated_at"),
        CheckConstraint("lifecycle_mode IN ('full', 'observe', 'manual')", name="lifecycle_mode"),
        CheckConstraint("desired_state IN ('present', 'deleted')", name="desired_state"),
        CheckConstraint("replicas >= 0", name="replicas_not_negative"),
    )

    id: int | None = id_field()
    team: str
    name: str
    #: postgres | mysql | redis | mongodb | kafka | generic (reconcilers may know more)
    engine: str
    image: str | None = None
    replicas: int = Field(default=1, sa_column_kwargs=_sql_default("1"))
    storage_size: str | None = None
    cpu: str | None = None
    memory: str | None = None
    lifecycle_mode: str = Field(default=LifecycleMode.FULL.value, sa_column_kwargs=_sql_default("'full'"))
    desired_state: str = Field(default=DesiredState.PRESENT.value, sa_column_kwargs=_sql_default("'present'"))
    extra_spec: dict[str, Any] | None = json_field()
    # bookkeeping of desired vs observed
    generation: int = Field(default=1, sa_column_kwargs=_sql_default("1"))
    spec_hash: str | None = None
    observed_generation: int | None = None
    status: str = Field(default=ResourceStatus.PENDING.value, sa_column_kwargs=_sql_default("'pending'"))
    ready_replicas: int = Field(default=0, sa_column_kwargs=_sql_default("0"))
    status_message: str | None = None
    last_error: str | None = None
    failure_count: int = Field(default=0, sa_column_kwargs=_sql_default("0"))
    #: dead-lettered after MAX_RETRIES until the spec changes or an operator retries it
    parked: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = ts_field(nullable=False, default_now=True, server_now=True)
    updated_at: datetime = ts_field(nullable=False, default_now=True, server_now=True, onupdate=True)
    reconciled_at: datetime | None = ts_field()


class ProvisioningJob(NautilusTable, table=True):
    """One action the controller took on a managed resource."""

    __tablename__ = "provisioning_job"
    __table_args__ = (Index("ix_provisioning_job_resource_id", "resource_id"),)

    id: int | None = id_field()
    resource_id: int = fk_id("managed_resource.id")
    #: create | update | scale | delete (``JobAction``)
    action: str
    #: running | succeeded | failed (``JobStatus``)
    status: str = JobStatus.RUNNING.value
    attempts: int = 1
    started_at: datetime = ts_field(nullable=False, default_now=True)
    finished_at: datetime | None = ts_field()
    error: str | None = None


class AuditLog(NautilusTable, table=True):
    """Append-only record of every action (who, on what, before/after, result)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_resource_kind_resource_key", "resource_kind", "resource_key"),
    )

    id: int | None = id_field()
    at: datetime = ts_field(nullable=False, default_now=True, server_now=True)
    actor: str
    resource_kind: str | None = None
    resource_key: str | None = None
    action: str
    before: dict[str, Any] | None = json_field()
    after: dict[str, Any] | None = json_field()
    result: str | None = None
    message: str | None = None
