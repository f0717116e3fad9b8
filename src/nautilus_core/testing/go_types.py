"""The Go types of the built-in kinds, as far as decoding a written body needs them.

Owns a small type tree per kind (structs, lists, maps, scalars, quantities) covering the fields that
clients write and that the emulator reads back, and :func:`decode`, which walks a body against it and
raises the 400 ``BadRequest`` the API server answers when a value does not unmarshal:
``Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go
struct field DeploymentSpec.spec.replicas of type int32``; it is the one place that answers a body
whose ``metadata`` is not an object. Fields outside the tree are not type-checked; unknown fields of
built-in kinds are dropped and reported to ``fieldValidation`` by ``openapi.py``. Called by
``object_rules.py`` on every write (trusted writes from test code are checked for ``metadata`` only)
and by ``verbs.py`` for the metadata of a server-side apply patch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from nautilus_core.testing import status as st
from nautilus_core.testing.resources import ResourceType

QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


@dataclass(frozen=True)
class Struct:
    go: str  # the Go type, e.g. "v1.ObjectMeta"
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class MapOf:
    value: Any
    key: str = "string"


STR, I32, I64, BOOL, QUANTITY, INT_OR_STR, BYTES = (
    "string",
    "int32",
    "int64",
    "bool",
    "quantity",
    "intstr",
    "bytes",
)
STRINGS = ListOf(STR)
STRING_MAP = MapOf(STR)
QUANTITIES = MapOf(QUANTITY, "v1.ResourceName")

OWNER_REFERENCE = Struct(
    "v1.OwnerReference",
    {"apiVersion": STR, "kind": STR, "name": STR, "uid": STR, "controller": BOOL, "blockOwnerDeletion": BOOL},
)
OBJECT_META = Struct(
    "v1.ObjectMeta",
    {
        "name": STR,
        "generateName": STR,
        "namespace": STR,
        "uid": STR,
        "resourceVersion": STR,
        "generation": I64,
        "creationTimestamp": STR,
        "deletionTimestamp": STR,
        "deletionGracePeriodSeconds": I64,
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
        "finalizers": STRINGS,
        "ownerReferences": ListOf(OWNER_REFERENCE),
    },
)
LABEL_SELECTOR = Struct(
    "v1.LabelSelector",
    {
        "matchLabels": STRING_MAP,
        "matchExpressions": ListOf(
            Struct("v1.LabelSelectorRequirement", {"key": STR, "operator": STR, "values": STRINGS})
        ),
    },
)
RESOURCES = Struct("v1.ResourceRequirements", {"limits": QUANTITIES, "requests": QUANTITIES})
CONTAINER = Struct(
    "v1.Container",
    {
        "name": STR,
        "image": STR,
        "command": STRINGS,
        "args": STRINGS,
        "workingDir": STR,
        "imagePullPolicy": STR,
        "ports": ListOf(
            Struct(
                "v1.ContainerPort",
                {"name": STR, "containerPort": I32, "hostPort": I32, "protocol": STR, "hostIP": STR},
            )
        ),
        "env": ListOf(Struct("v1.EnvVar", {"name": STR, "value": STR})),
        "resources": RESOURCES,
        "volumeMounts": ListOf(
            Struct("v1.VolumeMount", {"name": STR, "mountPath": STR, "readOnly": BOOL, "subPath": STR})
        ),
        "terminationMessagePath": STR,
        "terminationMessagePolicy": STR,
        "restartPolicy": STR,
    },
)
POD_SPEC = Struct(
    "v1.PodSpec",
    {
        "containers": ListOf(CONTAINER),
        "initContainers": ListOf(CONTAINER),
        "restartPolicy": STR,
        "terminationGracePeriodSeconds": I64,
        "activeDeadlineSeconds": I64,
        "dnsPolicy": STR,
        "nodeSelector": STRING_MAP,
        "serviceAccountName": STR,
        "nodeName": STR,
        "hostNetwork": BOOL,
        "schedulerName": STR,
        "priority": I32,
    },
)
POD_TEMPLATE = Struct("v1.PodTemplateSpec", {"metadata": OBJECT_META, "spec": POD_SPEC})
PVC_SPEC = Struct(
    "v1.PersistentVolumeClaimSpec",
    {
        "accessModes": STRINGS,
        "resources": Struct("v1.VolumeResourceRequirements", {"limits": QUANTITIES, "requests": QUANTITIES}),
        "storageClassName": STR,
        "volumeName": STR,
        "volumeMode": STR,
    },
)
PVC = Struct("v1.PersistentVolumeClaim", {"metadata": OBJECT_META, "spec": PVC_SPEC})


def _workload(spec_go: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": Struct(
            spec_go,
            {
                "replicas": I32,
                "selector": LABEL_SELECTOR,
                "template": POD_TEMPLATE,
                "revisionHistoryLimit": I32,
                "minReadySeconds": I32,
                **extra,
            },
        )
    }


JOB_SPEC = Struct(
    "v1.JobSpec",
    {
        "parallelism": I32,
        "completions": I32,
        "backoffLimit": I32,
        "activeDeadlineSeconds": I64,
        "ttlSecondsAfterFinished": I32,
        "suspend": BOOL,
        "selector": LABEL_SELECTOR,
        "template": POD_TEMPLATE,
    },
)

# Top-level fields (besides apiVersion, kind, metadata) by (group, kind).
_KINDS: dict[tuple[str, str], dict[str, Any]] = {
    ("", "Pod"): {"spec": POD_SPEC},
    ("", "ConfigMap"): {"data": STRING_MAP, "binaryData": MapOf(BYTES), "immutable": BOOL},
    ("", "Secret"): {"data": MapOf(BYTES), "stringData": STRING_MAP, "type": STR, "immutable": BOOL},
    ("", "Service"): {
        "spec": Struct(
            "v1.ServiceSpec",
            {
                "type": STR,
                "clusterIP": STR,
                "clusterIPs": STRINGS,
                "externalName": STR,
                "selector": STRING_MAP,
                "sessionAffinity": STR,
                "ports": ListOf(
                    Struct(
                        "v1.ServicePort",
                        {
                            "name": STR,
                            "protocol": STR,
                            "port": I32,
                            "targetPort": INT_OR_STR,
                            "nodePort": I32,
                        },
                    )
                ),
            },
        )
    },
    ("", "PersistentVolumeClaim"): {"spec": PVC_SPEC},
    ("", "Namespace"): {"spec": Struct("v1.NamespaceSpec", {"finalizers": STRINGS})},
    ("", "ServiceAccount"): {"automountServiceAccountToken": BOOL},
    ("apps", "Deployment"): _workload("v1.DeploymentSpec", {"paused": BOOL, "progressDeadlineSeconds": I32}),
    ("apps", "ReplicaSet"): _workload("v1.ReplicaSetSpec", {}),
    ("apps", "DaemonSet"): _workload("v1.DaemonSetSpec", {}),
    ("apps", "StatefulSet"): _workload(
        "v1.StatefulSetSpec",
        {"serviceName": STR, "podManagementPolicy": STR, "volumeClaimTemplates": ListOf(PVC)},
    ),
    ("batch", "Job"): {"spec": JOB_SPEC},
    ("batch", "CronJob"): {
        "spec": Struct(
            "v1.CronJobSpec",
            {
                "schedule": STR,
                "suspend": BOOL,
                "concurrencyPolicy": STR,
                "jobTemplate": Struct("v1.JobTemplateSpec", {"metadata": OBJECT_META, "spec": JOB_SPEC}),
            },
        )
    },
    ("coordination.k8s.io", "Lease"): {
        "spec": Struct(
            "v1.LeaseSpec", {"holderIdentity": STR, "leaseDurationSeconds": I32, "leaseTransitions": I32}
        )
    },
}


def _go(node: Any) -> str:
    if isinstance(node, Struct):
        return node.go
    if isinstance(node, ListOf):
        return "[]" + _go(node.item)
    if isinstance(node, MapOf):
        return f"map[{node.key}]{_go(node.value)}"
    return {QUANTITY: "resource.Quantity", INT_OR_STR: "intstr.IntOrString", BYTES: "[]uint8"}.get(node, node)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _check(node: Any, value: Any, owner: str, path: str) -> str | None:
    """The decoding error of ``value`` at ``path`` (a field of the Go struct ``owner``), or None."""
    if value is None:
        return None
    wrong = None
    if isinstance(node, Struct):
        if not isinstance(value, dict):
            wrong = _json_kind(value)
        else:
            short = node.go.rpartition(".")[2]
            for name, child in node.fields.items():
                if name in value:
                    error = _check(child, value[name], short, f"{path}.{name}" if path else name)
                    if error is not None:
                        return error
            return None
    elif isinstance(node, ListOf):
        if not isinstance(value, list):
            wrong = _json_kind(value)
        else:
            for item in value:
                error = _check(node.item, item, owner, path)
                if error is not None:
                    return error
            return None
    elif isinstance(node, MapOf):
        if not isinstance(value, dict):
            wrong = _json_kind(value)
        else:
            for item in value.values():
                error = _check(node.value, item, owner, path)
                if error is not None:
                    return error
            return None
    elif node == QUANTITY:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return QUANTITY_MSG
        return None if not isinstance(value, str) or QUANTITY_RE.match(value.strip()) else QUANTITY_MSG
    elif node in (STR, BYTES):
        if not isinstance(value, str):
            wrong = _json_kind(value)
    elif node in (I32, I64):
        if isinstance(value, float) and not value.is_integer():
            wrong = f"number {value}"
        elif isinstance(value, bool) or not isinstance(value, int | float):
            wrong = _json_kind(value)
    elif node == BOOL:
        if not isinstance(value, bool):
            wrong = _json_kind(value)
    elif node == INT_OR_STR and (isinstance(value, bool) or not isinstance(value, int | str)):
        wrong = _json_kind(value)
    if wrong is None:
        return None
    return f"json: cannot unmarshal {wrong} into Go struct field {owner}.{path} of type {_go(node)}"


def type_error(rtype: ResourceType, body: dict[str, Any], metadata_only: bool = False) -> str | None:
    """The decoding error of a whole object body, or None when it decodes."""
    kind = rtype.kind
    error = _check(OBJECT_META, body.get("metadata"), kind, "metadata")
    if error is not None or metadata_only:
        return error
    for name, node in _KINDS.get((rtype.group, kind), {}).items():
        if name in body:
            error = _check(node, body[name], kind, name)
            if error is not None:
                return error
    return None


def decode(rtype: ResourceType, body: dict[str, Any], metadata_only: bool = False) -> None:
    """Raise the 400 a real server answers when ``body`` does not decode into the kind's Go types."""
    message = type_error(rtype, body, metadata_only)
    if message is not None:
        kind = rtype.kind
        raise st.bad_request(f'{kind} in version "{rtype.version}" cannot be handled as a {kind}: {message}')
