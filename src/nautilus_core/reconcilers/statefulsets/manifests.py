"""What a ``managed_resource`` row should look like in Kubernetes: validation of the row and the
desired StatefulSet and headless Service (with the volume claim template).

Pure functions on plain dicts; called by the statefulsets reconciler. A row that cannot be turned
into manifests raises :class:`InvalidObjectError` naming the row and the field. Quantities (cpu, memory,
storage_size) are any Kubernetes quantity (``500m``, ``0.5``, ``1e3``, ``1.5Gi``), sent in the canonical
spelling an API server answers with and compared with live objects by value, so a row written
``0.5`` or ``1024Mi`` is not re-applied on every resync.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from nautilus_core.errors import InvalidObjectError
from nautilus_core.quantity import parse_quantity, same_quantity

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "nautilus"
TEAM_LABEL = "nautilus.io/team"
NAME_LABEL = "nautilus.io/name"
SPEC_HASH = "nautilus.io/spec-hash"
STORAGE = "nautilus.io/storage"


@dataclass(frozen=True)
class DataStore:
    """What a row's ``engine`` column selects: the data store's default image, port and data path
    (named so apart from the SQLAlchemy engine and the scaling engines)."""

    image: str
    port: int
    data_path: str
    env: tuple[tuple[str, str], ...] = ()


DATASTORES: dict[str, DataStore] = {
    "postgres": DataStore("postgres:16", 5432, "/var/lib/postgresql/data",
                       (("PGDATA", "/var/lib/postgresql/data/pgdata"),)),
    "mysql": DataStore("mysql:8.4", 3306, "/var/lib/mysql"),
    "redis": DataStore("redis:7.4", 6379, "/data"),
    "mongodb": DataStore("mongo:7.0", 27017, "/data/db"),
    "kafka": DataStore("apache/kafka:3.8.0", 9092, "/var/lib/kafka/data"),
    "generic": DataStore("", 8080, "/data"),
}

# registry[:port]/path[:tag][@digest] (the grammar of docker/distribution references, simplified)
_IMAGE = re.compile(
    r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def valid_namespace(name: str) -> bool:
    """Whether ``name`` can be a namespace (a DNS-1123 label of at most 63 characters)."""
    return len(name) <= 63 and bool(_DNS_LABEL.match(name))


@dataclass(frozen=True)
class Desired:
    """The validated desired state of one row."""

    key: str
    namespace: str
    name: str
    engine: str
    image: str
    replicas: int
    storage_size: str | None
    cpu: str | None
    memory: str | None
    port: int

    @property
    def labels(self) -> dict[str, str]:
        return {MANAGED_BY: MANAGER, "app.kubernetes.io/name": self.engine, "app.kubernetes.io/instance": self.name,
                TEAM_LABEL: self.key.split("/", 1)[0], NAME_LABEL: self.name}

    def spec_hash(self) -> str:
        """Everything the row asks for (a change re-arms a parked row and bumps the generation)."""
        return _hash({k: getattr(self, k) for k in ("engine", "image", "replicas", "storage_size", "cpu", "memory",
                                                    "port")})

    def template_hash(self) -> str:
        """What the StatefulSet's template and claims are made from (replicas excluded: that is a scale)."""
        return _hash({k: getattr(self, k) for k in ("engine", "image", "storage_size", "cpu", "memory", "port")})


def _hash(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def validate(row: Mapping[str, Any], namespace_prefix: str) -> Desired:
    """Check a row and resolve defaults; raises InvalidObjectError naming the field."""
    key = f"{row.get('team')}/{row.get('name')}"
    obj = f"managed_resource {key}"
    team, name = row.get("team"), row.get("name")
    for field, value in (("team", team), ("name", name)):
        if not isinstance(value, str) or not value:
            raise InvalidObjectError(obj, field, "is missing")
        if not _DNS_LABEL.match(value) or len(value) > 52:
            raise InvalidObjectError(obj, field, f"{value!r} is not a DNS label (a-z, 0-9, '-', at most 52)")
    namespace = f"{namespace_prefix}{team}"
    if not valid_namespace(namespace):
        raise InvalidObjectError(obj, "team", f"namespace {namespace!r} is not a valid namespace name")
    engine_name = row.get("engine")
    if engine_name not in DATASTORES:
        raise InvalidObjectError(obj, "engine", f"{engine_name!r} is unknown; one of {', '.join(DATASTORES)}")
    datastore = DATASTORES[str(engine_name)]
    image = row.get("image") or datastore.image
    if not image:
        raise InvalidObjectError(obj, "image", "is required for engine 'generic'")
    if not isinstance(image, str) or len(image) > 255 or not _IMAGE.match(image):
        raise InvalidObjectError(obj, "image", f"{image!r} is not a valid image reference")
    replicas = row.get("replicas")
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise InvalidObjectError(obj, "replicas", f"{replicas!r} must be a whole number >= 0")
    quantities = {field: _quantity(obj, field, row.get(field)) for field in ("storage_size", "cpu", "memory")}
    extra = row.get("extra_spec") or {}
    if not isinstance(extra, Mapping):
        raise InvalidObjectError(obj, "extra_spec", "must be a JSON object")
    port = extra.get("port", datastore.port)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidObjectError(obj, "extra_spec.port", f"{port!r} is not a port number")
    return Desired(key, namespace, str(name), str(engine_name), image, replicas, quantities["storage_size"],
                   quantities["cpu"], quantities["memory"], port)


def _quantity(obj: str, field: str, value: Any) -> str | None:
    """The canonical spelling of a row's quantity (``None`` when unset)."""
    if value is None or value == "":
        return None
    try:
        quantity = parse_quantity(value)
    except ValueError as exc:
        raise InvalidObjectError(obj, field, f"is not a valid Kubernetes quantity: {exc}") from None
    if quantity.nanos < 0:
        raise InvalidObjectError(obj, field, f"{value!r} must not be negative")
    if field == "storage_size" and quantity.nanos == 0:
        raise InvalidObjectError(obj, field, f"{value!r} must be greater than zero")
    return quantity.canonical()


def same_resources(desired: Any, current: Any) -> bool:
    """Container ``resources`` (requests/limits of name -> quantity) equal by value, however spelled."""
    if desired == current:  # the steady state: the server answered with our canonical spelling
        return True
    if not isinstance(desired, Mapping) or not isinstance(current, Mapping):
        return bool(desired == current or (not desired and not current))
    for part in set(desired) | set(current):
        want, have = desired.get(part) or {}, current.get(part) or {}
        if not isinstance(want, Mapping) or not isinstance(have, Mapping):
            if want != have:
                return False
            continue
        if set(want) != set(have) or not all(same_quantity(want[k], have[k]) for k in want):
            return False
    return True


def _resources(d: Desired) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", d.cpu), ("memory", d.memory)) if v}
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    if d.memory:
        out["limits"] = {"memory": d.memory}
    return out


def statefulset(d: Desired) -> dict[str, Any]:
    datastore = DATASTORES[d.engine]
    container: dict[str, Any] = {
        "name": d.engine, "image": d.image,
        "ports": [{"name": "main", "containerPort": d.port, "protocol": "TCP"}],
        "resources": _resources(d),
    }
    if datastore.env:
        container["env"] = [{"name": k, "value": v} for k, v in datastore.env]
    spec: dict[str, Any] = {
        "replicas": d.replicas,
        "serviceName": d.name,
        "selector": {"matchLabels": {TEAM_LABEL: d.labels[TEAM_LABEL], NAME_LABEL: d.name}},
        "template": {"metadata": {"labels": d.labels}, "spec": {"containers": [container]}},
    }
    if d.storage_size:
        container["volumeMounts"] = [{"name": "data", "mountPath": datastore.data_path}]
        spec["volumeClaimTemplates"] = [{
            "metadata": {"name": "data", "labels": d.labels},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": d.storage_size}}},
        }]
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": d.name, "namespace": d.namespace, "labels": d.labels,
                         "annotations": {SPEC_HASH: d.template_hash(), STORAGE: d.storage_size or ""}},
            "spec": spec}


def service(d: Desired) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": d.name, "namespace": d.namespace, "labels": d.labels},
            "spec": {"clusterIP": "None", "selector": {TEAM_LABEL: d.labels[TEAM_LABEL], NAME_LABEL: d.name},
                     "ports": [{"name": "main", "port": d.port, "targetPort": d.port, "protocol": "TCP"}]}}


def owned(obj: Mapping[str, Any] | None) -> bool:
    return bool(obj) and ((obj or {}).get("metadata") or {}).get("labels", {}).get(MANAGED_BY) == MANAGER


def key_of(obj: Mapping[str, Any]) -> str | None:
    """The managed_resource key ("team/name") an object or pod belongs to, from our labels."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    team, name = labels.get(TEAM_LABEL), labels.get(NAME_LABEL)
    return f"{team}/{name}" if team and name else None


def drift(desired: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Fields we own whose live value differs from the desired one (replicas reported separately)."""
    found = []
    dmeta, cmeta = desired["metadata"], current.get("metadata") or {}
    for label, value in dmeta["labels"].items():
        if (cmeta.get("labels") or {}).get(label) != value:
            found.append(f"metadata.labels[{label}]")
    for name, value in (dmeta.get("annotations") or {}).items():
        if (cmeta.get("annotations") or {}).get(name) != value:
            found.append(f"metadata.annotations[{name}]")
    dspec, cspec = desired["spec"], current.get("spec") or {}
    if "template" in dspec:
        dc = dspec["template"]["spec"]["containers"][0]
        ccs = ((cspec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
        cc: dict[str, Any] = next((c for c in ccs if c.get("name") == dc["name"]), {})
        for field in ("image", "resources", "ports", "env", "volumeMounts"):
            want, have = dc.get(field), cc.get(field)
            same = same_resources(want, have) if field == "resources" else want == have
            if not same and (want or have):
                found.append(f"spec.template.spec.containers[{dc['name']}].{field}")
        if (cspec.get("template") or {}).get("metadata", {}).get("labels") != dspec["template"]["metadata"]["labels"]:
            found.append("spec.template.metadata.labels")
    else:
        for field in ("ports", "selector", "clusterIP"):
            if dspec.get(field) != cspec.get(field):
                found.append(f"spec.{field}")
    return found
