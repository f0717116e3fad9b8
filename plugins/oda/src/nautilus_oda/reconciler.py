"""The ``oda-components`` reconciler: ODA Components and ExposedAPIs in Kubernetes -> the Component Registry.

Runs on the controller runtime (``nautilus oda run`` or ``nautilus controller run -r oda-components``).
Sources: watches of ``components`` and ``exposedapis`` (group ODA_COMPONENT_GROUP, version
ODA_COMPONENT_VERSION, namespace KUBERNETES_NAMESPACE or all) through the shared informers, which resume
from their resourceVersion and relist on 410; an ExposedAPI event enqueues its Component. Keys:

- ``<namespace>/<name>``: one Component. Its entry (``model.component_entry``) is compared with what the
  registry holds for it; only a difference is sent (``Registry.apply``: minimal writes), a Component gone
  from the cache is deleted from the registry. A malformed Component is logged, counted and skipped;
  its registry entry (if any) is left as it was.
- ``*full-sync*``: every SYNC_INTERVAL (a poll source) and at start. Reads back everything this
  collector owns (``Registry.list_owned``), applies every difference and deletes orphans (entries owned
  here whose Component is gone). Converges whatever was missed while the registry was down.

What the registry holds is remembered between reconciles (``_known``), refreshed by each full sync, at
the start of each leadership term and after any failed write, so an unchanged fleet costs no registry
call between full syncs and a full sync costs only the paged reads of ``list_owned``. Writes and the full
sync's comparison of one component are serialised per component name; ``list_owned`` runs alone.
Registry errors: unavailable -> transient (backoff, then the next full sync converges); the key refused
(401/403) -> per-component work stops calling the registry until a full sync succeeds (no retry storm);
a rejected value -> that component is reported and skipped.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import structlog

from nautilus_core.errors import ConfigError, InvalidObjectError
from nautilus_core.kube import KubeApiError, NotFound
from nautilus_core.types import BaseReconciler, ControllerContext, Outcome, PollSource, Request, Source, Watch
from nautilus_oda.metrics import CollectorMetrics
from nautilus_oda.model import belongs_to, component_entry, component_of, registry_name
from nautilus_oda.registry.base import (
    ComponentEntry,
    Registry,
    RegistryAuthError,
    RegistryError,
    RegistryRejected,
    RegistryUnavailable,
)
from nautilus_oda.settings import OdaSettings

log = structlog.get_logger(__name__)
NAME = "oda-components"
SYNC_KEY = "*full-sync*"  # never a namespace/name
COMPONENTS, EXPOSED = "components", "exposedapis"


def served(kube: Any, group: str, version: str) -> set[str]:
    """The resources among components/exposedapis the API server serves in ``group/version``."""
    try:
        doc = kube.request_json("GET", f"/apis/{group}/{version}")
    except NotFound:
        return set()
    return {r.get("name") for r in (doc or {}).get("resources") or ()} & {COMPONENTS, EXPOSED}


class _SharedLock:
    """Many holders of ``shared()`` at once, or one of ``exclusive()``: writes of different components
    run in parallel, the read-back of everything (``list_owned``) alone, so a client's view of the ids it
    owns is never replaced while a write relies on it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._writer = True
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class OdaReconciler(BaseReconciler):
    """See the module docstring. ``registry`` and ``settings`` may be given (tests, ``nautilus oda sync``)."""

    name = NAME

    def __init__(self, ctx: ControllerContext, *, registry: Registry | None = None,
                 settings: OdaSettings | None = None, check_crds: bool = True) -> None:
        super().__init__(ctx)
        self.settings = settings if settings is not None else ctx.settings_section(OdaSettings)
        s = self.settings
        if registry is None:
            from nautilus_oda.registry import build_registry

            registry = build_registry(s)
        self.registry: Registry = registry
        self.cache, self.kube = ctx.cache, ctx.kube
        self.api_version = f"{s.oda_component_group}/{s.oda_component_version}"
        self.namespace, self.all_namespaces = s.namespace, s.all_namespaces
        self.metrics = CollectorMetrics(ctx.metrics.registry if ctx.metrics is not None else None,
                                        calls=lambda: self.registry.calls)
        if check_crds:
            missing = {COMPONENTS, EXPOSED} - served(ctx.kube, s.oda_component_group, s.oda_component_version)
            if missing:
                names = ", ".join(f"{p}.{s.oda_component_group}" for p in sorted(missing))
                raise ConfigError(f"{NAME}: the CustomResourceDefinition {names} does not serve version "
                                  f"{s.oda_component_version} (ODA_COMPONENT_VERSION); install the ODA CRDs "
                                  "(kubectl apply -f plugins/oda/src/nautilus_oda/crds/)")
        self._known: dict[str, ComponentEntry] | None = None  # what the registry holds for us, by name
        self._stale = True
        self._seq = 0  # counts writes; ``_written[name]`` is the count at a name's last write
        self._written: dict[str, int] = {}
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._name_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._registry_ready = False
        self._io = _SharedLock()  # shared: apply/delete; exclusive: list_owned
        self._term: object = None  # the cancel token of the leadership term last reconciled in
        self._blocked: str | None = None  # the key was refused: only the full sync tries again
        self.full_syncs = 0
        self._reported: dict[str, str] = {}  # malformed Component -> the problem last reported
        #: (namespace, component) -> (namespace, name) of its ExposedAPIs, from the watch events
        self._exposed: defaultdict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        self._parent: dict[tuple[str, str], tuple[str, str]] = {}  # the reverse of ``_exposed``

    # ------------------------------------------------------------------ sources and keys

    def sources(self) -> Iterable[Source]:
        return [Watch(self.api_version, COMPONENTS, self._component_keys, namespace=self.namespace),
                Watch(self.api_version, EXPOSED, self._exposed_keys, namespace=self.namespace),
                PollSource("full-sync", self.settings.sync_interval, lambda: [SYNC_KEY])]

    def _component_keys(self, event: str, obj: Mapping[str, Any]) -> list[str]:
        self.metrics.event(COMPONENTS, event)
        meta = obj.get("metadata") or {}
        return [f"{meta.get('namespace', '')}/{meta.get('name', '')}"]

    def _exposed_keys(self, event: str, obj: Mapping[str, Any]) -> list[str]:
        self.metrics.event(EXPOSED, event)
        meta = obj.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        parent = component_of(obj)
        if parent is None:  # no label: the Component whose name prefixes the ExposedAPI's
            parent = next((c["metadata"]["name"] for c in self.cache.list(self.api_version, COMPONENTS, namespace)
                           if belongs_to(obj, c["metadata"]["name"])), None)
        with self._lock:  # which ExposedAPIs a component has, so its reconcile reads only those
            key = (namespace, name)
            before = self._parent.pop(key, None)
            if before is not None:
                self._exposed[before].discard(key)
            if parent and event != "DELETED":
                self._parent[key] = (namespace, parent)
                self._exposed[(namespace, parent)].add(key)
        return [f"{namespace}/{parent}"] if parent else []

    def _exposed_of(self, namespace: str, name: str) -> list[dict[str, Any]]:
        """The component's ExposedAPIs from the cache: those its watch events named (checked again: a
        label may have moved), or all of the namespace before any event arrived."""
        with self._lock:
            names = sorted(self._exposed.get((namespace, name), ()))
        if not names and not self._parent:
            return [e for e in self.cache.list(self.api_version, EXPOSED, namespace or None) if belongs_to(e, name)]
        found = (self.cache.get(self.api_version, EXPOSED, n, ns or None) for ns, n in names)
        return [e for e in found if e is not None and belongs_to(e, name)]

    def _components(self) -> list[dict[str, Any]]:
        return [o for o in self.cache.cached(self.api_version, COMPONENTS)
                if self.namespace is None or (o.get("metadata") or {}).get("namespace") == self.namespace]

    def keys(self) -> Iterable[str]:
        return [SYNC_KEY] + [_key(o) for o in self._components()]

    def fingerprints(self) -> Mapping[str, str | None]:
        """Each Component's resourceVersion and those of its ExposedAPIs; the full sync's count."""
        index = _ExposedIndex(self.cache.cached(self.api_version, EXPOSED))
        out: dict[str, str | None] = {SYNC_KEY: str(self.full_syncs) if self.full_syncs else None}
        for obj in self._components():
            out[_key(obj)] = _fingerprint(obj, index.of(obj))
        return out

    # ------------------------------------------------------------------ reconcile

    def reconcile(self, request: Request) -> Outcome:
        if request.token is not self._term:  # a new leadership term: another replica may have written
            with self._lock:
                if request.token is not self._term:
                    self._term, self._stale = request.token, True
        try:
            if request.key == SYNC_KEY:
                self.full_sync()
                return Outcome.done(str(self.full_syncs))
            return self._reconcile_component(request.key)
        except RegistryAuthError as exc:
            self._blocked = str(exc)
            log.error("registry_key_refused", error=str(exc))
            return Outcome.permanent(str(exc))
        except RegistryUnavailable as exc:
            return Outcome.transient(str(exc), retry_after=exc.retry_after)
        except RegistryError as exc:
            return Outcome.transient(str(exc))
        except KubeApiError as exc:  # a list failed: nothing deleted, the next try converges
            return Outcome.transient(f"kubernetes: {exc}")

    def _reconcile_component(self, key: str) -> Outcome:
        namespace, _, name = key.partition("/")
        if self._blocked is not None:
            return Outcome.permanent(f"not sent: {self._blocked} (retried at the next full sync)")
        started = time.monotonic()
        obj = self.cache.get(self.api_version, COMPONENTS, name, namespace or None)
        exposed = [] if obj is None else self._exposed_of(namespace, name)
        rname = registry_name(namespace, name, self.all_namespaces)
        self._ensure_known()
        with self._name_locks[rname]:
            if obj is None:
                current = self._current(rname)
                if current is not None:
                    self._delete(current)
                return Outcome.done()
            fingerprint = _fingerprint(obj, exposed)
            try:
                desired = component_entry(obj, exposed, all_namespaces=self.all_namespaces)
            except InvalidObjectError as exc:
                self._invalid(exc)
                return Outcome.done(fingerprint)
            self._apply(desired, self._current(rname))
        self.metrics.sync_duration("component", time.monotonic() - started)
        return Outcome.done(fingerprint)

    # ------------------------------------------------------------------ registry state

    def _current(self, name: str) -> ComponentEntry | None:
        """What the registry holds for ``name`` as far as we know (read under its name lock)."""
        with self._lock:
            return (self._known or {}).get(name)

    def _ensure_known(self) -> dict[str, ComponentEntry]:
        known = self._known
        if known is not None and not self._stale:
            return known
        with self._load_lock:
            if self._known is None or self._stale:
                self._refresh()
            assert self._known is not None
            return self._known

    def _refresh(self) -> dict[str, ComponentEntry]:
        """Read back what we own; keep what a write made newer than the read (caller holds _load_lock)."""
        with self._lock:
            seq0 = self._seq
            self._stale = False  # a write failing from here on marks it stale again
        with self._io.exclusive():
            if not self._registry_ready:
                self.registry.ensure_registry()
                self._registry_ready = True
            owned = self.registry.list_owned()
        with self._lock:
            merged = dict(owned)
            if self._known is not None:
                for name, when in self._written.items():
                    if when > seq0:  # written while we were reading: our copy is newer
                        if name in self._known:
                            merged[name] = self._known[name]
                        else:
                            merged.pop(name, None)
            self._known = merged
            self.metrics.current(len(merged))
        return owned

    def _record(self, name: str, entry: ComponentEntry | None) -> None:
        with self._lock:
            self._seq += 1
            self._written[name] = self._seq
            if self._known is not None:
                if entry is None:
                    self._known.pop(name, None)
                else:
                    self._known[name] = entry
                self.metrics.current(len(self._known))

    def _apply(self, desired: ComponentEntry, current: ComponentEntry | None) -> int | None:
        """The write calls made; None when the registry (or the client's limit check) refused a value."""
        if desired == current:
            return 0
        try:
            with self._io.shared():
                writes = self.registry.apply(desired, current)
        except RegistryRejected as exc:
            log.warning("component_rejected", component=desired.name, error=str(exc))
            self.metrics.component("failed", len(desired.apis))
            self._stale = True  # a partial write may have happened
            return None
        except RegistryError:
            self._stale = True
            raise
        self._record(desired.name, desired)
        if writes:  # 0: the registry already held it (as its limits store it)
            self.metrics.component("success", len(desired.apis))
            log.info("component_synced", component=desired.name, apis=len(desired.apis), writes=writes,
                     created=current is None)
        return writes

    def _delete(self, current: ComponentEntry) -> int:
        try:
            with self._io.shared():
                writes = self.registry.delete(current)
        except RegistryError:
            self._stale = True
            raise
        self._record(current.name, None)
        self.metrics.component("deleted", len(current.apis))
        log.info("component_removed", component=current.name, writes=writes)
        return writes

    def _invalid(self, exc: InvalidObjectError) -> None:
        """Report a malformed Component: a warning when its problem is new, then debug at each sync."""
        message = str(exc)
        with self._lock:
            new = self._reported.get(exc.obj) != message
            self._reported[exc.obj] = message
        (log.warning if new else log.debug)("component_invalid", error=message)
        self.metrics.component("failed")

    # ------------------------------------------------------------------ full sync

    def full_sync(self) -> dict[str, int]:
        """Apply every difference and delete orphans; counts of ``applied``, ``deleted``, ``invalid``,
        ``unchanged`` components. Lists Kubernetes first: a failed list changes nothing."""
        started = time.monotonic()
        components = list(self.cache.list(self.api_version, COMPONENTS, self.namespace))
        index = _ExposedIndex(self.cache.list(self.api_version, EXPOSED, self.namespace))
        with self._load_lock:
            self._refresh()
            with self._lock:
                seq0 = self._seq
        known = self._known or {}
        counts = {"applied": 0, "deleted": 0, "invalid": 0, "unchanged": 0, "rejected": 0}
        present: set[str] = set()
        for obj in components:
            meta = obj.get("metadata") or {}
            rname = registry_name(str(meta.get("namespace") or ""), str(meta.get("name") or ""), self.all_namespaces)
            present.add(rname)
            try:
                desired = component_entry(obj, index.of(obj), all_namespaces=self.all_namespaces)
            except InvalidObjectError as exc:
                self._invalid(exc)
                counts["invalid"] += 1
                continue
            with self._name_locks[rname]:
                current = self._current(rname)
                if desired == current:
                    counts["unchanged"] += 1
                    continue
                writes = self._apply(desired, current)
                counts["rejected" if writes is None else "applied" if writes else "unchanged"] += 1
        for rname in sorted(set(known) - present):
            with self._name_locks[rname]:
                current = self._current(rname)
                if current is None or self._written.get(rname, 0) > seq0:
                    continue  # a component reconcile handled it meanwhile
                self._delete(current)
                counts["deleted"] += 1
        self._blocked = None
        self.full_syncs += 1
        self.metrics.invalid(counts["invalid"])
        seconds = time.monotonic() - started
        self.metrics.sync_duration("full", seconds)
        log.info("full_sync_done", seconds=round(seconds, 3), **counts)
        return counts

    # ------------------------------------------------------------------ one component (CLI)

    def sync_component(self, namespace: str, name: str) -> tuple[str, int]:
        """``nautilus oda sync``: bring one Component's entry in step now; ``(what happened, writes)``.

        :raises InvalidObjectError: the Component is malformed.
        :raises RegistryError: the registry failed or refused.
        """
        obj = self.cache.get(self.api_version, COMPONENTS, name, namespace)
        rname = registry_name(namespace, name, self.all_namespaces)
        self._ensure_known()
        current = self._current(rname)
        if obj is None:
            if current is None:
                return "absent", 0
            return "deleted", self._delete(current)
        exposed = [e for e in self.cache.list(self.api_version, EXPOSED, namespace) if belongs_to(e, name)]
        desired = component_entry(obj, exposed, all_namespaces=self.all_namespaces)
        if desired == current:
            return "unchanged", 0
        try:
            with self._io.shared():
                writes = self.registry.apply(desired, current)
        except RegistryError:
            self._stale = True
            raise
        self._record(rname, desired)
        return ("created" if current is None else "updated"), writes


class _ExposedIndex:
    """ExposedAPI objects by (namespace, component label); unlabelled ones matched by name prefix."""

    def __init__(self, objects: Iterable[Mapping[str, Any]]) -> None:
        self.by_parent: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
        self.loose: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for obj in objects:
            namespace = str((obj.get("metadata") or {}).get("namespace") or "")
            parent = component_of(obj)
            if parent is None:
                self.loose[namespace].append(obj)
            else:
                self.by_parent[(namespace, parent)].append(obj)

    def of(self, component: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        meta = component.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        found = list(self.by_parent.get((namespace, name), ()))
        found += [o for o in self.loose.get(namespace, ()) if belongs_to(o, name)]
        return found


def _key(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _fingerprint(obj: Mapping[str, Any], exposed: Iterable[Mapping[str, Any]]) -> str:
    versions = sorted(f"{(e.get('metadata') or {}).get('name')}@{(e.get('metadata') or {}).get('resourceVersion')}"
                      for e in exposed)
    return ",".join([str((obj.get("metadata") or {}).get("resourceVersion")), *versions])
