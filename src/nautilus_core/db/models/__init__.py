"""Every Nautilus table, by job: inventory, controller, pod watch; one shared ``metadata``.

Imported by ``nautilus_core.db`` (which re-exports the table classes), the migrations and every
package that reads or writes the database.
"""

from __future__ import annotations

from nautilus_core.db.models.base import NAMING_CONVENTION, NautilusTable, metadata
from nautilus_core.db.models.controller import (
    SPEC_COLUMNS,
    AuditLog,
    DesiredState,
    JobAction,
    JobStatus,
    LifecycleMode,
    ManagedResource,
    ProvisioningJob,
    ResourceStatus,
)
from nautilus_core.db.models.inventory import (
    SYNCED_COLUMNS,
    USER_OWNED_CLUSTER_COLUMNS,
    Cluster,
    Namespace,
    Node,
    OutcomeStatus,
    Service,
    SyncOutcome,
    SyncRun,
    SyncRunStatus,
)
from nautilus_core.db.models.podwatch import Container, ContainerState, Health, LogLevel, LogLine, Pod, PodEvent

__all__ = [
    "NAMING_CONVENTION",
    "SPEC_COLUMNS",
    "SYNCED_COLUMNS",
    "USER_OWNED_CLUSTER_COLUMNS",
    "AuditLog",
    "Cluster",
    "Container",
    "ContainerState",
    "DesiredState",
    "Health",
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
    "metadata",
]
