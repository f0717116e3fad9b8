"""More per-kind printers of the emulator's tables: access control, storage, leases and events.

Owns the kubectl columns of ServiceAccounts (SECRETS), Roles and ClusterRoles (CREATED AT),
RoleBindings and ClusterRoleBindings (ROLE; USERS, GROUPS, SERVICEACCOUNTS when wide), Leases
(HOLDER), PersistentVolumeClaims (STATUS, VOLUME, CAPACITY, ACCESS MODES, STORAGECLASS) and core
Events (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE). Looked up by ``tables.py`` after ``printers.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nautilus_core.testing.printers import AGE_COLUMN, Obj, Printer, age, since


def _binding(obj: Obj, now: datetime) -> list[Any]:
    role = obj.get("roleRef") or {}
    subjects = obj.get("subjects") or []

    def names(kind: str) -> str:
        picked = [s for s in subjects if s.get("kind") == kind]
        if kind == "ServiceAccount":
            return ",".join(f"{s.get('namespace', '')}/{s.get('name', '')}" for s in picked)
        return ",".join(str(s.get("name", "")) for s in picked)

    return [
        f"{role.get('kind', '')}/{role.get('name', '')}",
        age(obj, now),
        names("User"),
        names("Group"),
        names("ServiceAccount"),
    ]


_BINDING_COLUMNS = [
    ("Role", "string", "Role of the binding.", 0),
    AGE_COLUMN,
    ("Users", "string", "Users in the binding.", 1),
    ("Groups", "string", "Groups in the binding.", 1),
    ("ServiceAccounts", "string", "ServiceAccounts in the binding.", 1),
]
_CREATED = (
    [("Created At", "date", "When the object was created.", 0)],
    lambda obj, now: [obj["metadata"].get("creationTimestamp", "")],
)


def _claim(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    modes = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    bound = status.get("phase") == "Bound"
    return [
        status.get("phase", "Pending"),
        spec.get("volumeName", ""),
        (status.get("capacity") or {}).get("storage", "") if bound else "",
        ",".join(modes.get(m, m) for m in status.get("accessModes") or []) if bound else "",
        spec.get("storageClassName") or "<unset>",
        spec.get("volumeAttributesClassName") or "<unset>",
        age(obj, now),
        spec.get("volumeMode", "Filesystem"),
    ]


def _event(obj: Obj, now: datetime) -> list[Any]:
    involved = obj.get("involvedObject") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime") or obj["metadata"].get("creationTimestamp")
    return [
        since(last, now),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        str(obj.get("message", "")).strip(),
    ]


MISC_PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "ServiceAccount"): (
        [("Secrets", "integer", "The number of secrets of the service account.", 0), AGE_COLUMN],
        lambda obj, now: [len(obj.get("secrets") or []), age(obj, now)],
    ),
    ("rbac.authorization.k8s.io", "Role"): _CREATED,
    ("rbac.authorization.k8s.io", "ClusterRole"): _CREATED,
    ("rbac.authorization.k8s.io", "RoleBinding"): (_BINDING_COLUMNS, _binding),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): (_BINDING_COLUMNS, _binding),
    ("coordination.k8s.io", "Lease"): (
        [("Holder", "string", "The holder of the lease.", 0), AGE_COLUMN],
        lambda obj, now: [(obj.get("spec") or {}).get("holderIdentity", ""), age(obj, now)],
    ),
    ("", "PersistentVolumeClaim"): (
        [
            ("Status", "string", "The phase of the claim.", 0),
            ("Volume", "string", "The volume bound to the claim.", 0),
            ("Capacity", "string", "The capacity of the bound volume.", 0),
            ("Access Modes", "string", "The access modes of the bound volume.", 0),
            ("StorageClass", "string", "The storage class of the claim.", 0),
            ("VolumeAttributesClass", "string", "The volume attributes class of the claim.", 0),
            AGE_COLUMN,
            ("VolumeMode", "string", "Filesystem or Block.", 1),
        ],
        _claim,
    ),
    ("", "Event"): (
        [
            ("Last Seen", "string", "When the event was last seen.", 0),
            ("Type", "string", "Normal or Warning.", 0),
            ("Reason", "string", "Why the event was emitted.", 0),
            ("Object", "string", "The object the event is about.", 0),
            ("Message", "string", "What happened.", 0),
        ],
        _event,
    ),
}
