"""The data types plugins and the engine exchange, and the protocols plugins implement.

Everything here is a frozen dataclass or a ``typing.Protocol``; no SDK object ever crosses a hook.
Imported by ``hookspecs``, every plugin, and the engine's packages. Re-exported from ``nautilus_core``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from nautilus_core.kube.client import KubeClient



# --------------------------------------------------------------------------- inventory


@dataclass(frozen=True)
class ClusterRef:
    """One cluster as a provider sees it.

    ``account`` is the AWS account, GCP project or Azure subscription (empty for kubeconfig);
    ``location`` the region or zone. ``key`` identifies the cluster across runs.
    """

    provider: str
    name: str
    account: str = ""
    location: str = ""
    version: str | None = None
    status: str | None = None
    node_count: int | None = None
    endpoint: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    #: Provider-private data needed by ``connect`` (never secrets; credentials come from the cloud chain).
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        return "/".join((self.provider, self.account, self.location, self.name))


@dataclass(frozen=True)
class NamespaceFacts:
    name: str
    phase: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    #: pod counts by kubectl STATUS column value (Running, CrashLoopBackOff, ...)
    pod_counts: Mapping[str, int] = field(default_factory=dict)
    created_at: str | None = None


@dataclass(frozen=True)
class ServiceFacts:
    namespace: str
    name: str
    type: str | None = None
    cluster_ip: str | None = None
    #: {"name", "port", "protocol", "targetPort", "nodePort"} per port, as the API gives them
    ports: tuple[Mapping[str, Any], ...] = ()
    external_address: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeFacts:
    name: str
    ready: bool | None = None
    memory_pressure: bool = False
    disk_pressure: bool = False
    pid_pressure: bool = False
    unschedulable: bool = False
    kubelet_version: str | None = None
    instance_type: str | None = None
    zone: str | None = None
    capacity: Mapping[str, str] = field(default_factory=dict)
    allocatable: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What an enricher learned about a cluster.

    A field left ``None`` means "this enricher did not fetch it" (not "there are none"): the
    synchronizer only replaces, and tombstones, the kinds of rows whose fetch succeeded.
    ``problems`` counts objects that could not be read, by a label such as ``pod:missing-status``.
    """

    kubernetes_version: str | None = None
    namespaces: tuple[NamespaceFacts, ...] | None = None
    services: tuple[ServiceFacts, ...] | None = None
    nodes: tuple[NodeFacts, ...] | None = None
    problems: Mapping[str, int] = field(default_factory=dict)
    #: a few printable names of the objects counted in ``problems``, by the same labels
    problem_objects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@runtime_checkable
class ClusterProvider(Protocol):
    """Discovers clusters of one source (a cloud, a kubeconfig) and opens API clients to them."""

    name: str

    def discover(self) -> Iterable[ClusterRef]:
        """Every cluster visible with the ambient credentials.

        Discovery is all or nothing as far as deletion goes: the pipeline tombstones a provider's
        clusters that are missing from a *complete* answer only. So:

        * everything was seen: return (or yield) the clusters;
        * nothing could be listed: raise any exception (the provider is recorded as failed, its
          clusters keep their rows);
        * part of the fleet could not be listed (a kubeconfig file, region, project, subscription or
          page failed): raise :class:`nautilus_core.errors.PartialDiscovery` with the clusters that
          were found and one problem per failed part naming it. Those clusters are synced, the
          provider is recorded as failed, and none of its clusters is tombstoned.

        Never return a partial list as if it were complete.
        """
        ...

    def connect(self, cluster: ClusterRef) -> KubeClient:
        """An API client for ``cluster``, credentials chained from the provider (no kubeconfig edits)."""
        ...


@runtime_checkable
class Enricher(Protocol):
    """Reads one aspect of a cluster through its Kubernetes API."""

    name: str

    def enrich(self, cluster: ClusterRef, kube: KubeClient) -> Facts: ...


# --------------------------------------------------------------------------- controller


class OutcomeKind(enum.Enum):
    DONE = "done"
    REQUEUE = "requeue"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Outcome:
    """The result of one reconcile: done, requeue after a delay, transient error (retry with
    backoff), or permanent error (park the key until its desired state changes)."""

    kind: OutcomeKind
    after: float | None = None
    message: str | None = None

    @classmethod
    def done(cls) -> Outcome:
        return cls(OutcomeKind.DONE)

    @classmethod
    def requeue(cls, after: float) -> Outcome:
        return cls(OutcomeKind.REQUEUE, after=after)

    @classmethod
    def transient(cls, message: str, retry_after: float | None = None) -> Outcome:
        return cls(OutcomeKind.TRANSIENT, after=retry_after, message=message)

    @classmethod
    def permanent(cls, message: str) -> Outcome:
        return cls(OutcomeKind.PERMANENT, message=message)


@dataclass(frozen=True)
class WatchSource:
    """A Kubernetes watch whose events are mapped to reconcile keys by ``to_keys(event_type, obj)``."""

    api_version: str
    plural: str
    to_keys: Callable[[str, Mapping[str, Any]], Iterable[str]]
    namespace: str | None = None
    label_selector: str | None = None


@dataclass(frozen=True)
class PollSource:
    """A periodic poll (e.g. rows changed since the last poll): ``poll()`` returns keys to enqueue.

    The runtime calls it every ``interval`` seconds from one thread; an exception is logged and the
    next poll happens as usual. Used for desired state kept in a database.
    """

    name: str
    interval: float
    poll: Callable[[], Iterable[str]]


@runtime_checkable
class Reconciler(Protocol):
    """Closes the gap between desired state and Kubernetes for one kind of key."""

    name: str

    def keys(self) -> Iterable[str]:
        """All keys with desired state (used by the periodic resync)."""
        ...

    def sources(self) -> Iterable[WatchSource | PollSource]:
        """Watches and polls whose events enqueue keys; called again at every resync, so a source
        that appears later (a new namespace to watch) is started then."""
        ...

    def reconcile(self, key: str) -> Outcome: ...


@dataclass(frozen=True)
class ControllerContext:
    """What a reconciler factory gets from the runtime: settings, database engine, API client, and
    the identity of this controller process (for audit records)."""

    settings: Any
    engine: Any
    kube: Any
    identity: str = "nautilus"


ReconcilerFactory = Callable[[ControllerContext], Reconciler]


# --------------------------------------------------------------------------- scaling


@dataclass(frozen=True)
class MetricSample:
    """One metric value from Prometheus with the threshold it is compared against.

    ``value`` is None (or NaN) when the query returned nothing usable. ``condition`` is ``"gt"``
    (scale up when the value is above ``target``) or ``"lt"`` (scale up when it is below).
    """

    name: str
    value: float | None
    target: float | None = None
    condition: str = "gt"
    #: recent (unix time, value) observations of this metric, oldest first (None for a failed
    #: scrape); read by forecasting engines such as ``predictive``, ignored by the others
    history: tuple[tuple[float, float | None], ...] = ()


@dataclass(frozen=True)
class ScalingInput:
    namespace: str
    name: str
    current_replicas: int
    min_replicas: int
    max_replicas: int
    metrics: tuple[MetricSample, ...] = ()
    #: recent (unix time, recommendation) pairs, oldest first: ``Decision.details["recommendation"]``
    #: of earlier decisions for this object (the unstabilized value), not the applied replica counts;
    #: the caller may drop entries older than the engine's longest window (300 s for hpa)
    history: tuple[tuple[float, int], ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    #: unix time of this decision; engines never read the clock (None: ``options["now"]`` if given)
    now: float | None = None


@dataclass(frozen=True)
class Decision:
    replicas: int
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class ScalingEngine(Protocol):
    """Decides a replica count from metrics. Must not do I/O other than its own model's."""

    name: str

    def decide(self, data: ScalingInput) -> Decision: ...
