"""The value rules of the built-in kinds the emulator serves, and the validation entry point.

Owns :func:`validate` (metadata rules from ``validation.py`` plus the kind's own) and the per-kind
checks a real API server makes before storing: pods need containers with a name (a DNS-1123 label,
unique) and an image, ports in range and a supported restart policy, and may change little besides
images on update; Deployments, ReplicaSets, DaemonSets and StatefulSets need a non-empty selector that
matches the template's labels, ``replicas >= 0``, an ``Always`` restart policy, and keep their selector
(StatefulSets keep most of their spec); Jobs and CronJobs need ``OnFailure``/``Never`` and a schedule;
Services need ports (unless headless or ExternalName) in range, named when several, a supported type,
protocol and session affinity; ConfigMap and Secret keys are config keys and an immutable one keeps
its data. Field paths are those of the real server (``spec.template.spec.containers[0].image``).
Called by ``object_rules.py`` for writes that do not come from test code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from nautilus_core.testing.defaults import pod_spec, quantity_value
from nautilus_core.testing.resources import ResourceType
from nautilus_core.testing.validation import (
    DUPLICATE,
    FORBIDDEN,
    INVALID,
    NOT_SUPPORTED,
    REQUIRED,
    FieldError,
    check_labels,
    check_metadata,
    check_update_metadata,
    dns1123_label,
    invalid,
)

Obj = dict[str, Any]
Errors = list[FieldError]
_CONFIG_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
_CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)
_PORT_RANGE = "must be between 1 and 65535, inclusive"
_POD_UPDATE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
    "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
    "previously negative)"
)
_STS_UPDATE = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)


def validate(rtype: ResourceType, obj: Obj, old: Obj | None = None) -> None:
    """Raise the 422 a real server answers for ``obj`` (a create when ``old`` is None)."""
    meta = obj["metadata"]
    errors = check_metadata(rtype, meta, old is None)
    if old is not None:
        errors.extend(check_update_metadata(old, obj))
    rule = _RULES.get((rtype.group, rtype.kind))
    if rule is not None:
        errors.extend(rule(obj, old))
    if errors:
        raise invalid(rtype.kind, rtype.group, meta.get("name") or meta.get("generateName") or "", errors)


def _items(value: Any) -> list[Obj]:
    """A list of objects as Go decodes it: a null element is the zero struct."""
    return [item if isinstance(item, dict) else {} for item in value or []]


def _non_negative(value: Any, path: str) -> Errors:
    if isinstance(value, int) and value < 0:
        return [FieldError(INVALID, path, value, "must be greater than or equal to 0")]
    return []


def _port(value: Any, path: str) -> Errors:
    if isinstance(value, int) and not 1 <= value <= 65535:
        return [FieldError(INVALID, path, value, _PORT_RANGE)]
    return []


def _containers(spec: Obj, path: str) -> Errors:
    errors: Errors = []
    containers = spec.get("containers") or []
    if not containers:
        errors.append(FieldError(REQUIRED, f"{path}.containers"))
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        for index, container in enumerate(_items(spec.get(field))):
            where = f"{path}.{field}[{index}]"
            name = container.get("name") or ""
            if not name:
                errors.append(FieldError(REQUIRED, f"{where}.name"))
            else:
                errors.extend(FieldError(INVALID, f"{where}.name", name, p) for p in dns1123_label(name))
                if name in seen:
                    errors.append(FieldError(DUPLICATE, f"{where}.name", name))
                seen.add(name)
            if not container.get("image"):
                errors.append(FieldError(REQUIRED, f"{where}.image"))
            errors.extend(_resources(container.get("resources"), f"{where}.resources"))
            for number, port in enumerate(_items(container.get("ports"))):
                port_path = f"{where}.ports[{number}]"
                if port.get("containerPort") is None:
                    errors.append(FieldError(REQUIRED, f"{port_path}.containerPort"))
                errors.extend(_port(port.get("containerPort"), f"{port_path}.containerPort"))
                errors.extend(_protocol(port.get("protocol"), f"{port_path}.protocol"))
    return errors


def _resources(resources: Any, path: str) -> Errors:
    """Quantities are not negative and requests do not exceed limits."""
    if not isinstance(resources, dict):
        return []
    errors: Errors = []
    limits: Obj = resources.get("limits") or {}
    requests: Obj = resources.get("requests") or {}
    for part, values in (("limits", limits), ("requests", requests)):
        for name, raw in values.items():
            parsed = quantity_value(raw)
            if parsed is not None and parsed[0] < 0:
                errors.append(
                    FieldError(
                        INVALID, f"{path}.{part}[{name}]", str(raw), "must be greater than or equal to 0"
                    )
                )
    for name, raw in requests.items():
        request, limit = quantity_value(raw), quantity_value(limits.get(name))
        if request is not None and limit is not None and request[0] > limit[0]:
            detail = f"must be less than or equal to {name} limit of {limits[name]}"
            errors.append(FieldError(INVALID, f"{path}.requests", str(raw), detail))
    return errors


def _protocol(value: Any, path: str) -> Errors:
    if value is not None and value not in ("TCP", "UDP", "SCTP"):
        return [FieldError(NOT_SUPPORTED, path, value, 'supported values: "SCTP", "TCP", "UDP"')]
    return []


def _restart_policy(spec: Obj, path: str, allowed: tuple[str, ...]) -> Errors:
    value = spec.get("restartPolicy")
    if value is None or value in allowed:
        return []
    shown = ", ".join(f'"{v}"' for v in allowed)
    return [FieldError(NOT_SUPPORTED, f"{path}.restartPolicy", value, f"supported values: {shown}")]


def _pod(obj: Obj, old: Obj | None) -> Errors:
    spec = obj.get("spec") or {}
    errors = _containers(spec, "spec")
    errors.extend(_restart_policy(spec, "spec", ("Always", "OnFailure", "Never")))
    errors.extend(
        _non_negative(spec.get("terminationGracePeriodSeconds"), "spec.terminationGracePeriodSeconds")
    )
    before = pod_spec(old.get("spec") or {}) if old is not None else None  # seeded objects lack defaults
    if before is not None and errors == [] and _without_images(pod_spec(spec)) != _without_images(before):
        errors.append(FieldError(FORBIDDEN, "spec", detail=_POD_UPDATE))
    return errors


def _without_images(spec: Obj) -> Obj:
    stripped = {k: v for k, v in spec.items() if k not in ("activeDeadlineSeconds", "tolerations")}
    for field in ("containers", "initContainers"):
        if field in spec:
            stripped[field] = [{k: v for k, v in c.items() if k != "image"} for c in _items(spec[field])]
    return stripped


def selector_matches(selector: Obj, labels: dict[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels and matchExpressions) selects ``labels``."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in _items(selector.get("matchExpressions")):
        key, operator = str(expression.get("key")), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _selected_template(
    spec: Obj, kind: str, restart: tuple[str, ...], manual_selector: bool = True
) -> Errors:
    errors: Errors = []
    selector = spec.get("selector")
    template = spec.get("template")
    if manual_selector:
        if selector is None:
            errors.append(FieldError(REQUIRED, "spec.selector"))
        elif not selector.get("matchLabels") and not selector.get("matchExpressions"):
            errors.append(
                FieldError(INVALID, "spec.selector", selector, f"empty selector is invalid for {kind}")
            )
        else:
            errors.extend(check_labels(selector.get("matchLabels"), "spec.selector.matchLabels"))
    if template is None:
        errors.append(FieldError(REQUIRED, "spec.template"))
        return errors
    labels = (template.get("metadata") or {}).get("labels") or {}
    errors.extend(check_labels(labels, "spec.template.metadata.labels"))
    if manual_selector and selector and not errors and not selector_matches(selector, labels):
        errors.append(
            FieldError(
                INVALID,
                "spec.template.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
        )
    pod_spec = template.get("spec") or {}
    errors.extend(_containers(pod_spec, "spec.template.spec"))
    errors.extend(_restart_policy(pod_spec, "spec.template.spec", restart))
    return errors


def _workload(kind: str) -> Callable[[Obj, Obj | None], Errors]:
    def rule(obj: Obj, old: Obj | None) -> Errors:
        spec = obj.get("spec") or {}
        errors = _non_negative(spec.get("replicas"), "spec.replicas")
        errors.extend(_non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
        errors.extend(_non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
        errors.extend(_selected_template(spec, kind, ("Always",)))
        if old is not None:
            old_spec = old.get("spec") or {}
            if old_spec.get("selector") != spec.get("selector"):
                errors.append(
                    FieldError(INVALID, "spec.selector", spec.get("selector"), "field is immutable")
                )
            if kind == "statefulset":
                kept = (
                    "replicas",
                    "ordinals",
                    "template",
                    "updateStrategy",
                    "persistentVolumeClaimRetentionPolicy",
                )
                if {k: v for k, v in spec.items() if k not in (*kept, "minReadySeconds")} != {
                    k: v for k, v in old_spec.items() if k not in (*kept, "minReadySeconds")
                }:
                    errors.append(FieldError(FORBIDDEN, "spec", detail=_STS_UPDATE))
        return errors

    return rule


def _job_spec(spec: Obj, prefix: str) -> Errors:
    errors: Errors = []
    for field in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"):
        errors.extend(_non_negative(spec.get(field), f"{prefix}.{field}"))
    template = spec.get("template")
    if template is None:
        return [*errors, FieldError(REQUIRED, f"{prefix}.template")]
    pod_spec = template.get("spec") or {}
    path = f"{prefix}.template.spec"
    errors.extend(_containers(pod_spec, path))
    if pod_spec.get("restartPolicy") not in ("OnFailure", "Never"):
        value = pod_spec.get("restartPolicy", "Always")
        errors.append(
            FieldError(
                NOT_SUPPORTED, f"{path}.restartPolicy", value, 'supported values: "OnFailure", "Never"'
            )
        )
    return errors


def _job(obj: Obj, old: Obj | None) -> Errors:
    return _job_spec(obj.get("spec") or {}, "spec")


def _cron_job(obj: Obj, old: Obj | None) -> Errors:
    spec = obj.get("spec") or {}
    errors: Errors = []
    if not spec.get("schedule"):
        errors.append(FieldError(REQUIRED, "spec.schedule"))
    job_template = spec.get("jobTemplate") or {}
    errors.extend(_job_spec(job_template.get("spec") or {}, "spec.jobTemplate.spec"))
    return errors


def _service(obj: Obj, old: Obj | None) -> Errors:
    spec = obj.get("spec") or {}
    errors: Errors = []
    kind = spec.get("type", "ClusterIP")
    types = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
    if kind not in types:
        errors.append(
            FieldError(
                NOT_SUPPORTED, "spec.type", kind, "supported values: " + ", ".join(f'"{t}"' for t in types)
            )
        )
    affinity = spec.get("sessionAffinity")
    if affinity is not None and affinity not in ("ClientIP", "None"):
        errors.append(
            FieldError(
                NOT_SUPPORTED, "spec.sessionAffinity", affinity, 'supported values: "ClientIP", "None"'
            )
        )
    ports = _items(spec.get("ports"))
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        errors.append(FieldError(REQUIRED, "spec.ports"))
    names: set[str] = set()
    for index, port in enumerate(ports):
        where = f"spec.ports[{index}]"
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            errors.append(FieldError(REQUIRED, f"{where}.name"))
        elif name:
            errors.extend(FieldError(INVALID, f"{where}.name", name, p) for p in dns1123_label(name))
            if name in names:
                errors.append(FieldError(DUPLICATE, f"{where}.name", name))
            names.add(name)
        if port.get("port") is None:
            errors.append(FieldError(REQUIRED, f"{where}.port"))
        errors.extend(_port(port.get("port"), f"{where}.port"))
        errors.extend(_protocol(port.get("protocol"), f"{where}.protocol"))
        if isinstance(port.get("targetPort"), int) and port["targetPort"] != 0:
            errors.extend(_port(port["targetPort"], f"{where}.targetPort"))
    if kind == "ExternalName" and not spec.get("externalName"):
        errors.append(FieldError(REQUIRED, "spec.externalName"))
    return errors


def _keyed_data(fields: tuple[str, ...]) -> Callable[[Obj, Obj | None], Errors]:
    def rule(obj: Obj, old: Obj | None) -> Errors:
        errors: Errors = []
        for field in fields:
            for key in obj.get(field) or {}:
                if len(key) > 253:
                    errors.append(
                        FieldError(INVALID, f"{field}[{key}]", key, "must be no more than 253 characters")
                    )
                if not _CONFIG_KEY_RE.match(key):
                    errors.append(FieldError(INVALID, f"{field}[{key}]", key, _CONFIG_KEY_MSG))
        if old is not None and old.get("immutable"):
            for field in fields:
                if obj.get(field) != old.get(field):
                    errors.append(
                        FieldError(FORBIDDEN, field, detail="field is immutable when `immutable` is set")
                    )
            if not obj.get("immutable"):
                errors.append(
                    FieldError(FORBIDDEN, "immutable", detail="field is immutable when `immutable` is set")
                )
        return errors

    return rule


_RULES: dict[tuple[str, str], Callable[[Obj, Obj | None], Errors]] = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "ConfigMap"): _keyed_data(("data", "binaryData")),
    ("", "Secret"): _keyed_data(("data", "stringData")),
    ("apps", "Deployment"): _workload("deployment"),
    ("apps", "ReplicaSet"): _workload("replicaset"),
    ("apps", "DaemonSet"): _workload("daemonset"),
    ("apps", "StatefulSet"): _workload("statefulset"),
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cron_job,
}
