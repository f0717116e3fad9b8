"""The data types plugins and the engine exchange, and the protocols plugins implement.

Everything here is a frozen dataclass or a ``typing.Protocol``; no SDK object ever crosses a hook.
Imported by ``hookspecs``, every plugin, and the engine's packages. Re-exported from ``nautilus_core``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings
    from sqlalchemy import Table
    from sqlalchemy.engine import Engine as DatabaseEngine
    from structlog.typing import FilteringBoundLogger

    from nautilus_core.cancellation import CancelToken
    from nautilus_core.config import Settings
    from nautilus_core.kube.client import KubeClient

#: a plugin's settings section (``nautilus_register_settings``)
_Section = TypeVar("_Section", bound="BaseSettings")

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
    """What an enricher learned about a cluster: rows of inventory kinds, and the cluster's version.

    ``rows`` holds, per kind name (see :class:`Kind`), the items the enricher read: mappings of
    column values, or objects the kind's ``row`` mapper turns into them. ``namespaces``, ``services``
    and ``nodes`` are the typed spelling of ``rows["namespaces"]`` and so on for the built-in kinds.
    A kind left out (``None``) means "this enricher did not fetch it" (not "there are none"): the
    synchronizer only replaces, and tombstones, the kinds of rows whose every contributor succeeded.
    Only the columns the enricher declares in its ``contributes`` are kept, so two enrichers can
    fill different columns of the same rows. ``problems`` counts objects that could not be read, by
    a label such as ``pod:missing-status``.
    """

    kubernetes_version: str | None = None
    namespaces: tuple[NamespaceFacts, ...] | None = None
    services: tuple[ServiceFacts, ...] | None = None
    nodes: tuple[NodeFacts, ...] | None = None
    rows: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    problems: Mapping[str, int] = field(default_factory=dict)
    #: a few printable names of the objects counted in ``problems``, by the same labels
    problem_objects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def rows_of(self, kind: str) -> Sequence[Any] | None:
        """The items of ``kind`` this enricher fetched (``None``: it did not fetch that kind)."""
        if kind in _TYPED_KINDS:
            typed = getattr(self, kind)
            if typed is not None:
                return typed
        return self.rows.get(kind)


_TYPED_KINDS = ("namespaces", "services", "nodes")


@dataclass(frozen=True)
class Kind:
    """A kind of inventory row: one row per object of a cluster, in a table of its own.

    Registered with :func:`~nautilus_core.hookspecs.nautilus_register_kinds`; enrichers contribute
    columns to it (``Enricher.contributes``) and the synchronizer writes it for every cluster: rows
    are diffed by ``key`` within the cluster, unchanged rows only touched, vanished rows tombstoned.

    :param name: the kind's name, also the key of ``Facts.rows`` (``"ingresses"``).
    :param table: the SQLAlchemy ``Table``; besides ``key`` and the data columns it has ``id``,
        ``cluster_id``, ``data_hash``, ``first_seen_at``, ``last_seen_at`` and ``deleted_at``
        (``nautilus_core.db.kind_table`` adds them), and a unique constraint on
        ``(cluster_id, *key)``.
    :param key: the columns naming one object within a cluster (``("namespace", "name")``).
    :param row: turns one item an enricher returned into column values; ``None``: the items are
        mappings already.
    :param migrations: a directory of Alembic revision scripts creating ``table``, on a branch of
        its own (``branch_labels``) that ``depends_on`` the core revision it needs; ``nautilus db
        upgrade`` applies them with the core's.
    """

    name: str
    table: Table
    key: tuple[str, ...]
    row: Callable[[Any], Mapping[str, Any]] | None = None
    migrations: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns enrichers may contribute (neither key nor bookkeeping)."""
        return tuple(c.name for c in self.table.columns if c.name not in (*self.key, *BOOKKEEPING_COLUMNS))


#: Columns of every kind's table that the synchronizer owns.
BOOKKEEPING_COLUMNS = ("id", "cluster_id", "data_hash", "first_seen_at", "last_seen_at", "deleted_at")


def column_owners(contributions: Iterable[tuple[str, Mapping[str, Sequence[str]]]],
                  kinds: Mapping[str, Kind]) -> dict[tuple[str, str], str]:
    """Who fills each ``(kind, column)``, from ``(owner, contributes)`` pairs.

    :raises ValueError: a kind or column that does not exist, or a column claimed twice (the
        message names both owners).
    """
    owners: dict[tuple[str, str], str] = {}
    for owner, contributes in contributions:
        for kind_name, columns in contributes.items():
            kind = kinds.get(kind_name)
            if kind is None:
                raise ValueError(f"{owner} contributes to unknown kind {kind_name!r}; "
                                 f"registered kinds: {', '.join(sorted(kinds))}")
            for column in columns:
                if column not in kind.columns:
                    raise ValueError(f"{owner} contributes column {column!r} that kind {kind_name!r} "
                                     f"does not have; its columns: {', '.join(kind.columns)}")
                other = owners.setdefault((kind_name, column), owner)
                if other != owner:
                    raise ValueError(f"column {kind_name}.{column} is claimed by both {other} and {owner}")
    return owners


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
    """Reads one aspect of a cluster through its Kubernetes API.

    It also declares ``contributes``, the columns it fills by kind (``{"nodes": ("ready", "zone")}``,
    read with :func:`contributes`); rows of kinds it does not declare are left out. Not part of the
    protocol's checked attributes, so an enricher that only reports the cluster's version needs none.
    """

    name: str

    def enrich(self, cluster: ClusterRef, kube: KubeClient) -> Facts: ...


def contributes(enricher: object) -> Mapping[str, tuple[str, ...]]:
    """The columns ``enricher`` fills, by kind: its ``contributes`` attribute (``{}`` without one).

    ``contributes = {"namespaces": ("phase", "pod_counts")}`` declares that the enricher's
    ``Facts`` carry those columns of the namespaces kind; the rest of each row is left to others.
    """
    declared = getattr(enricher, "contributes", None) or {}
    return {str(kind): tuple(columns) for kind, columns in dict(declared).items()}


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
    #: with ``done``: what the reconciled state looked like (see ``Reconciler.fingerprints``); the
    #: resync skips the key while its fingerprint stays the same
    fingerprint: str | None = None

    @classmethod
    def done(cls, fingerprint: str | None = None) -> Outcome:
        return cls(OutcomeKind.DONE, fingerprint=fingerprint)

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
    """A watch (through the shared informer cache) whose events are mapped to reconcile keys by
    ``to_keys(event_type, obj)``. ``namespace`` None watches cluster-wide."""

    api_version: str
    plural: str
    to_keys: Callable[[str, Mapping[str, Any]], Iterable[str]]
    namespace: str | None = None
    label_selector: str | None = None


#: controller-runtime's name for the same declaration
Watch = WatchSource


@dataclass(frozen=True)
class Owns:
    """Objects a reconciler creates with an ownerReference to the object its key names: an event on
    one enqueues the owner's key ``namespace/name`` (owners of kind ``owner_kind``). Read them through
    ``ctx.cache`` (``list(..., owner_uid=...)`` uses the owner index)."""

    api_version: str
    plural: str
    owner_kind: str
    namespace: str | None = None
    label_selector: str | None = None

    def to_keys(self, event_type: str, obj: Mapping[str, Any]) -> list[str]:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or ""
        return [f"{namespace}/{ref['name']}" if namespace else str(ref["name"])
                for ref in meta.get("ownerReferences") or ()
                if isinstance(ref, Mapping) and ref.get("kind") == self.owner_kind and ref.get("name")]


@dataclass(frozen=True)
class PollSource:
    """A periodic poll (e.g. rows changed since the last poll): ``poll()`` returns keys to enqueue.

    The runtime calls it every ``interval`` seconds from one thread; an exception is logged and the
    next poll happens as usual. Used for desired state kept in a database.
    """

    name: str
    interval: float
    poll: Callable[[], Iterable[str]]


Source = WatchSource | Owns | PollSource


@dataclass(frozen=True)
class Request:
    """One reconcile: the ``key`` and the ``token`` cancelled when the leadership term ends (after
    which the runtime refuses the reconcile's requests and statements; check ``cancelled`` to stop
    early)."""

    key: str
    token: CancelToken

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled


Objects = list[dict[str, Any]]


@runtime_checkable
class ObjectCache(Protocol):
    """Reads through the runtime's informer cache (``ControllerContext.cache``): a synced informer
    answers without a request, "absent" included; otherwise one GET or list. ``put`` stores the answer
    to one of our writes, ``evict`` forgets an object the server says is gone."""

    def get(self, api_version: str, plural: str, name: str,
            namespace: str | None = None) -> dict[str, Any] | None: ...

    def list(self, api_version: str, plural: str, namespace: str | None = None,
             label_selector: str | None = None, owner_uid: str | None = None) -> Objects: ...

    def cached(self, api_version: str, plural: str) -> Objects: ...

    def peek(self, api_version: str, plural: str, name: str,
             namespace: str | None = None) -> tuple[bool, dict[str, Any] | None]: ...

    def put(self, api_version: str, plural: str, obj: dict[str, Any] | None) -> None: ...

    def evict(self, api_version: str, plural: str, name: str, namespace: str | None = None) -> None: ...


@runtime_checkable
class Reconciler(Protocol):
    """Closes the gap between desired state and Kubernetes for one kind of key."""

    name: str

    def keys(self) -> Iterable[str]:
        """All keys with desired state (used by the periodic resync)."""
        ...

    def sources(self) -> Iterable[Source]:
        """Watches, owned resources and polls whose events enqueue keys; called again at every resync:
        new ones are started, ones no longer declared are stopped."""
        ...

    def reconcile(self, request: Request) -> Outcome: ...

    # Optional: ``fingerprints() -> Mapping[str, str | None]``, every key with a cheap summary of its
    # desired and observed state (e.g. a row version and the resourceVersions in the cache). When a
    # reconciler has it, the resync calls it instead of ``keys()`` and enqueues only the keys whose
    # fingerprint differs from the one their last ``Outcome.done(fingerprint)`` reported: a resync of
    # an unchanged fleet costs a comparison per key, not a reconcile.


@dataclass(frozen=True)
class ControllerContext:
    """What a reconciler factory gets from the runtime.

    ``cache`` reads through the current leadership term's informers; ``plugins`` is the plugin
    manager (``plugins.scaling_engines()["hpa"].obj`` finds a scaling engine by name); ``metrics`` the
    runtime's Prometheus registry; ``identity`` this controller process (for audit records); ``log``
    a logger bound to the reconciler's name.
    """

    settings: Settings
    engine: DatabaseEngine
    kube: KubeClient
    cache: ObjectCache
    identity: str = "nautilus"
    plugins: Any = None
    metrics: Any = None
    log: FilteringBoundLogger | Any = None

    def settings_section(self, cls: type[_Section]) -> _Section:
        """A plugin's validated settings section (``nautilus_register_settings``), typed.

        :raises PluginError: no plugin manager, or no plugin registered ``cls``.
        """
        if self.plugins is None:
            from nautilus_core.errors import PluginError

            raise PluginError(f"settings section {cls.__name__}: this context has no plugin manager")
        section: _Section = self.plugins.settings_section(cls)
        return section


class BaseReconciler:
    """Defaults for a reconciler: no keys, no sources, nothing to do on park or close."""

    name = ""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx

    def keys(self) -> Iterable[str]:
        return ()

    def sources(self) -> Iterable[Source]:
        return ()

    def reconcile(self, request: Request) -> Outcome:
        raise NotImplementedError

    def park(self, key: str, message: str) -> None:
        """Called after MAX_RETRIES failures (or a permanent error): the key waits for a change."""

    def close(self) -> None:
        """Called once when the runtime stops."""


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
    #: recent (unix time, replica change) pairs, oldest first: each change the caller applied to this
    #: object (``+3`` for 4 -> 7, ``-2`` for 7 -> 5); hpa's behaviour policies count the changes inside
    #: their ``periodSeconds`` against the limit, so the caller keeps them per object and may drop
    #: entries older than the longest policy period (15 s for hpa's defaults)
    scale_events: tuple[tuple[float, int], ...] = ()


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
