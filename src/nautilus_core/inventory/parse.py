"""Raw API objects (namespaces, pods, nodes, services) -> the flat facts the inventory stores.

Pure functions on parsed JSON, used by the built-in enrichers (``inventory.enrichers``) and the
property-based tests. The rules, the same on SQLite and PostgreSQL because they apply before any
database sees the data:

* An object without a usable identity (``metadata.name``, and ``metadata.namespace`` for namespaced
  kinds: missing, not a string, a NUL byte, longer than ``MAX_NAME``) is skipped and counted under
  ``<kind>:missing-<field>`` / ``<kind>:invalid-<field>``.
* Any other field of the wrong type is left out (``None``/empty) and the object is kept, counted
  under ``<kind>:malformed-<field>``; a NUL byte in a kept string becomes U+FFFD (PostgreSQL text
  and jsonb cannot hold NUL). So one bad field never removes the object's row.
* A pod that cannot be read is not counted in any status and is counted under
  ``pod:malformed-<field>``; its namespace is kept as it is.

``Problems`` counts by label and remembers a few printable object names per label.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from nautilus_core.podstatus import MalformedPod, pod_status
from nautilus_core.types import NamespaceFacts, NodeFacts, ServiceFacts

T = TypeVar("T")
#: Longest name kept: a DNS-1123 subdomain's limit (keeps every unique index far below PostgreSQL's
#: 2704-byte btree row limit).
MAX_NAME = 253
#: Object names remembered per problem label.
EXAMPLES = 5
#: Errors a parser may hit on a hostile object; anything else is a bug and propagates.
DATA_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError, RecursionError)
PORT_KEYS = ("name", "port", "protocol", "targetPort", "nodePort")


class Skip(ValueError):
    """The object cannot be kept; ``label`` says why (``missing-metadata.name``)."""

    def __init__(self, label: str, name: str | None = None) -> None:
        super().__init__(label)
        self.label, self.name = label, name


def printable(text: Any, limit: int = 80) -> str:
    """``text`` safe to show and store: control characters escaped, shortened to ``limit``."""
    raw = text if isinstance(text, str) else repr(text)
    short = raw[:limit]
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else "?" for c in short)
    return shown + (f"...({len(raw)} chars)" if len(raw) > limit else "")


class Problems:
    """Malformed objects counted by label, with up to ``EXAMPLES`` names each."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = defaultdict(list)

    def add(self, label: str, name: Any = None) -> None:
        self.counts[label] += 1
        if name is not None and len(self.examples[label]) < EXAMPLES:
            self.examples[label].append(printable(name))

    def as_facts(self) -> dict[str, Any]:
        """``problems`` and ``problem_objects`` keyword arguments of :class:`Facts`."""
        return {"problems": dict(self.counts),
                "problem_objects": {k: tuple(v) for k, v in self.examples.items() if v}}


def identity(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise Skip(f"missing-{field}")
    if "\x00" in value or len(value) > MAX_NAME:
        raise Skip(f"invalid-{field}", value)
    return value


class Fields:
    """Reads the non-identity fields of one object, noting each malformed one instead of raising."""

    def __init__(self) -> None:
        self.bad: set[str] = set()

    def text(self, value: Any, field: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.bad.add(field)
            return None
        if "\x00" in value:
            self.bad.add(field)
            return value.replace("\x00", "\ufffd")
        return value

    def flag(self, value: Any, field: str) -> bool:
        if value is None or isinstance(value, bool):
            return bool(value)
        self.bad.add(field)
        return False

    def mapping(self, value: Any, field: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.bad.add(field)
            return {}
        return value

    def maps(self, value: Any, field: str) -> list[Mapping[str, Any]]:
        """A list of objects; entries that are not objects are dropped."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad.add(field)
            return []
        out = [item for item in value if isinstance(item, Mapping)]
        if len(out) != len(value):
            self.bad.add(field)
        return out

    def strings(self, value: Any, field: str) -> dict[str, str]:
        """A map of strings (labels, capacity): entries that are not string -> string are dropped."""
        out: dict[str, str] = {}
        for key, item in self.mapping(value, field).items():
            k, v = self.text(key, field), self.text(item, field)
            if k is None or v is None:
                self.bad.add(field)
                continue
            out[k] = v
        return out

    def scalar(self, value: Any, field: str) -> str | int | None:
        """A string or an integer (a port, a targetPort)."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return self.text(value, field)


def _meta(obj: Any) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise Skip("not-an-object")
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        raise Skip("missing-metadata.name")
    return meta


def collect(items: Iterable[Any], kind: str, parse: Callable[[Any, Fields], T], problems: Problems) -> list[T]:
    """``parse`` every item; skipped objects and malformed fields are counted in ``problems``."""
    out = []
    for item in items:
        fields = Fields()
        try:
            out.append(parse(item, fields))
        except Skip as skip:
            problems.add(f"{kind}:{skip.label}", skip.name)
            continue
        except DATA_ERRORS:
            problems.add(f"{kind}:malformed", _name_of(item))
            continue
        for field in sorted(fields.bad):
            problems.add(f"{kind}:malformed-{field}", _name_of(item))
    return out


def _name_of(obj: Any) -> str | None:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    name = meta.get("name") if isinstance(meta, Mapping) else None
    namespace = meta.get("namespace") if isinstance(meta, Mapping) else None
    if not isinstance(name, str):
        return None
    return f"{namespace}/{name}" if isinstance(namespace, str) and namespace else name


def count_pods(pods: Iterable[Any], problems: Problems) -> dict[str, Counter[str]]:
    """Pods counted per namespace by kubectl STATUS; unreadable pods are counted as problems only."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for pod in pods:
        try:
            namespace = identity(_meta(pod).get("namespace"), "metadata.namespace")
            counts[namespace][pod_status(pod).status] += 1
        except Skip as skip:
            problems.add(f"pod:{skip.label}", skip.name if skip.name is not None else _name_of(pod))
        except MalformedPod as bad:
            problems.add(f"pod:malformed-{bad.field}", _name_of(pod))
        except DATA_ERRORS:
            problems.add("pod:malformed", _name_of(pod))
    return counts


def namespaces(items: Iterable[Any], pods: Iterable[Any], problems: Problems) -> list[NamespaceFacts]:
    """Namespaces with pod counts; pods of a namespace the list did not return get a bare entry."""
    counts = count_pods(pods, problems)

    def parse(ns: Any, f: Fields) -> NamespaceFacts:
        meta = _meta(ns)
        name = identity(meta.get("name"), "metadata.name")
        status = f.mapping(ns.get("status"), "status")
        return NamespaceFacts(
            name=name, phase=f.text(status.get("phase"), "status.phase"),
            labels=f.strings(meta.get("labels"), "metadata.labels"),
            pod_counts=dict(sorted(counts.pop(name, Counter()).items())),
            created_at=f.text(meta.get("creationTimestamp"), "metadata.creationTimestamp"),
        )

    out = collect(items, "namespace", parse, problems)
    seen = {n.name for n in out}
    for name, leftover in counts.items():  # created between the two lists (or the list skipped it)
        if name not in seen:
            out.append(NamespaceFacts(name=name, pod_counts=dict(sorted(leftover.items()))))
    return out


def service(svc: Any, f: Fields) -> ServiceFacts:
    meta = _meta(svc)
    name = identity(meta.get("name"), "metadata.name")
    namespace = identity(meta.get("namespace"), "metadata.namespace")
    spec = f.mapping(svc.get("spec"), "spec")
    ports = []
    for port in f.maps(spec.get("ports"), "spec.ports"):
        kept = {k: f.scalar(port[k], f"spec.ports.{k}") for k in PORT_KEYS if k in port}
        ports.append({k: v for k, v in kept.items() if v is not None})
    ingress = f.maps(f.mapping(f.mapping(svc.get("status"), "status").get("loadBalancer"),
                               "status.loadBalancer").get("ingress"), "status.loadBalancer.ingress")
    addresses = [f.text(i.get("ip"), "status.loadBalancer.ingress.ip")
                 or f.text(i.get("hostname"), "status.loadBalancer.ingress.hostname") for i in ingress]
    external = ",".join(a for a in addresses if a)
    if not external:
        ips = spec.get("externalIPs")
        if ips is not None and not (isinstance(ips, list) and all(isinstance(i, str) for i in ips)):
            f.bad.add("spec.externalIPs")
            ips = None
        external = ",".join(i.replace("\x00", "\ufffd") for i in ips or ())
    return ServiceFacts(
        namespace=namespace, name=name, type=f.text(spec.get("type"), "spec.type"),
        cluster_ip=f.text(spec.get("clusterIP"), "spec.clusterIP"), ports=tuple(ports),
        external_address=external or None, labels=f.strings(meta.get("labels"), "metadata.labels"),
    )


def node(obj: Any, f: Fields) -> NodeFacts:
    meta = _meta(obj)
    name = identity(meta.get("name"), "metadata.name")
    status = f.mapping(obj.get("status"), "status")
    conditions: dict[str, str | None] = {}
    for c in f.maps(status.get("conditions"), "status.conditions"):
        kind = f.text(c.get("type"), "status.conditions.type")
        if kind is not None:
            conditions[kind] = f.text(c.get("status"), "status.conditions.status")
    labels = f.strings(meta.get("labels"), "metadata.labels")
    ready = conditions.get("Ready")
    return NodeFacts(
        name=name,
        # kubectl prints NotReady for False and Unknown (kubelet stopped reporting) alike
        ready=None if ready is None else ready == "True",
        memory_pressure=conditions.get("MemoryPressure") == "True",
        disk_pressure=conditions.get("DiskPressure") == "True",
        pid_pressure=conditions.get("PIDPressure") == "True",
        unschedulable=f.flag(f.mapping(obj.get("spec"), "spec").get("unschedulable"), "spec.unschedulable"),
        kubelet_version=f.text(f.mapping(status.get("nodeInfo"), "status.nodeInfo").get("kubeletVersion"),
                               "status.nodeInfo.kubeletVersion"),
        instance_type=labels.get("node.kubernetes.io/instance-type")
        or labels.get("beta.kubernetes.io/instance-type"),
        zone=labels.get("topology.kubernetes.io/zone") or labels.get("failure-domain.beta.kubernetes.io/zone"),
        capacity=_quantities(f, status.get("capacity"), "status.capacity"),
        allocatable=_quantities(f, status.get("allocatable"), "status.allocatable"),
        labels=labels,
    )


def _quantities(f: Fields, value: Any, field: str) -> dict[str, str]:
    """Resource quantities: strings as the API sends them; bare numbers kept as their text."""
    out: dict[str, str] = {}
    for key, item in f.mapping(value, field).items():
        if isinstance(item, int | float) and not isinstance(item, bool):
            item = str(item)
        k, v = f.text(key, field), f.text(item, field)
        if k is None or v is None:
            f.bad.add(field)
            continue
        out[k] = v
    return out
