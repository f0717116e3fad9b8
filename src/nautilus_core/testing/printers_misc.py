"""More per-kind printers of the emulator's tables: access control, storage, leases, events, and more.

Owns the kubectl columns of ServiceAccounts (SECRETS), Roles and ClusterRoles (CREATED AT),
RoleBindings and ClusterRoleBindings (ROLE; USERS, GROUPS, SERVICEACCOUNTS when wide), Leases
(HOLDER), PersistentVolumeClaims (STATUS, VOLUME, CAPACITY, ACCESS MODES, STORAGECLASS), core Events
(LAST SEEN, TYPE, REASON, OBJECT, MESSAGE), DaemonSets, Ingresses, HorizontalPodAutoscalers and
PodDisruptionBudgets (for when those resources are served). Looked up by ``tables.py`` after
``printers.py``.
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


def _daemonset(obj: Obj, now: datetime) -> list[Any]:
    status = obj.get("status") or {}
    template = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted((template.get("nodeSelector") or {}).items()))
    return [
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        selector or "<none>",
        age(obj, now),
    ]


def _ingress(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    hosts = [rule.get("host") for rule in spec.get("rules") or [] if rule.get("host")]
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    addresses = [i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")]
    return [
        spec.get("ingressClassName") or "<none>",
        ",".join(hosts) or "*",
        ",".join(addresses),
        "80, 443" if spec.get("tls") else "80",
        age(obj, now),
    ]


def _hpa(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    target = spec.get("scaleTargetRef") or {}
    shown = []
    current = {
        (m.get("resource") or {}).get("name"): (m.get("resource") or {}).get("current") or {}
        for m in status.get("currentMetrics") or []
        if m.get("type") == "Resource"
    }
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and "averageUtilization" in (resource.get("target") or {}):
            now_value = current.get(resource.get("name"), {}).get("averageUtilization")
            wanted = resource["target"]["averageUtilization"]
            shown.append(
                f"{resource.get('name')}: {'<unknown>' if now_value is None else f'{now_value}%'}/{wanted}%"
            )
        else:
            shown.append(f"<{metric.get('type', 'unknown')}>")
    return [
        f"{target.get('kind', '')}/{target.get('name', '')}",
        ", ".join(shown) or "<none>",
        spec.get("minReplicas", 1),
        spec.get("maxReplicas", 0),
        status.get("currentReplicas", 0),
        age(obj, now),
    ]


def _pdb(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        spec.get("minAvailable", "N/A"),
        spec.get("maxUnavailable", "N/A"),
        status.get("disruptionsAllowed", 0),
        age(obj, now),
    ]


MISC_PRINTERS: dict[tuple[str, str], Printer] = {
    ("apps", "DaemonSet"): (
        [
            ("Desired", "integer", "Number of nodes that should run the pod.", 0),
            ("Current", "integer", "Number of nodes running the pod.", 0),
            ("Ready", "integer", "Number of nodes with a ready pod.", 0),
            ("Up-to-date", "integer", "Number of nodes with the updated pod.", 0),
            ("Available", "integer", "Number of nodes with an available pod.", 0),
            ("Node Selector", "string", "The node selector of the pods.", 0),
            AGE_COLUMN,
        ],
        _daemonset,
    ),
    ("networking.k8s.io", "Ingress"): (
        [
            ("Class", "string", "The ingress class.", 0),
            ("Hosts", "string", "The hosts of the rules.", 0),
            ("Address", "string", "The load balancer addresses.", 0),
            ("Ports", "string", "The ports served.", 0),
            AGE_COLUMN,
        ],
        _ingress,
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): (
        [
            ("Reference", "string", "The scaled resource.", 0),
            ("Targets", "string", "Current and target metric values.", 0),
            ("MinPods", "integer", "The lower replica limit.", 0),
            ("MaxPods", "integer", "The upper replica limit.", 0),
            ("Replicas", "integer", "The current number of replicas.", 0),
            AGE_COLUMN,
        ],
        _hpa,
    ),
    ("policy", "PodDisruptionBudget"): (
        [
            ("Min Available", "string", "The minimum number of available pods.", 0),
            ("Max Unavailable", "string", "The maximum number of unavailable pods.", 0),
            ("Allowed Disruptions", "integer", "How many pods may be disrupted now.", 0),
            AGE_COLUMN,
        ],
        _pdb,
    ),
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
