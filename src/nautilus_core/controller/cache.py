"""The informer cache: shared, watch-fed copies of Kubernetes objects, one set per leadership term.

Owns :class:`Informer` (one list+watch of one resource in one namespace or cluster-wide, with one
label selector: a store of the objects, indexes by owner, event handlers, a supervised thread that
restarts a watch which died on an unexpected error) and :class:`InformerCache` (informers keyed by
what they watch and reference counted, so two reconcilers watching the same thing share one watch;
reads that answer from a synced informer — including "absent" — and fall back to a GET otherwise;
write-through of the answers to our own writes; ``wait_for_sync``). The runtime creates one cache
per term and stops it with the term, so nothing a previous term believed survives into the next.
Reconcilers read it through ``ControllerContext.cache``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog

from nautilus_core.kube import KubeClient, NotFound, Watcher
from nautilus_core.kube.selectors import Selector

log = structlog.get_logger(__name__)

Handler = Callable[[str, dict[str, Any]], None]  # (ADDED | MODIFIED | DELETED, object)
ObjKey = tuple[str, str]  # (namespace, name)
Objects = list[dict[str, Any]]


@dataclass(frozen=True)
class InformerKey:
    """What one informer watches: a resource, in one namespace (None: cluster-wide), one selector."""

    api_version: str
    plural: str
    namespace: str | None = None
    label_selector: str | None = None

    def covers(self, namespace: str | None) -> bool:
        return self.namespace is None or self.namespace == (namespace or None)

    def __str__(self) -> str:
        where = self.namespace or "*"
        return f"{self.api_version}/{self.plural} in {where}" + (f" [{self.label_selector}]" if self.label_selector
                                                                  else "")


def _rv(obj: dict[str, Any] | None) -> int | None:
    raw = ((obj or {}).get("metadata") or {}).get("resourceVersion")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def _okey(obj: dict[str, Any]) -> ObjKey:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


class Informer:
    """List+watch of one :class:`InformerKey` into a store; handlers see every change."""

    def __init__(self, key: InformerKey, kube: KubeClient, *, silence_timeout: float = 300.0,
                 restart_backoff: tuple[float, float] = (1.0, 30.0)) -> None:
        self.key = key
        self.watcher = Watcher(kube, key.api_version, key.plural, namespace=key.namespace,
                               label_selector=key.label_selector, silence_timeout=silence_timeout)
        self.restart_backoff = restart_backoff
        self.refs = 0
        self.restarts = 0
        self.last_error: str | None = None
        self._objects: dict[ObjKey, dict[str, Any]] = {}
        self._owned: dict[str, set[ObjKey]] = {}  # owner uid -> objects naming it in ownerReferences
        self._handlers: list[Handler] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"informer-{self.key.plural}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.watcher.stop()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def synced(self) -> bool:
        return self.watcher.synced.is_set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        delay = self.restart_backoff[0]
        while not self._stop.is_set():
            try:
                for event in self.watcher.events():
                    if self._stop.is_set():
                        return
                    self._apply(event.type, event.obj)
                return  # the watcher was stopped
            except Exception as exc:  # e.g. a truncated page that does not decode: restart the watch
                self.restarts += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("informer_restarting", informer=str(self.key), error=self.last_error,
                            restarts=self.restarts, retry_in=delay)
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, self.restart_backoff[1])

    # ------------------------------------------------------------------ store

    def _apply(self, kind: str, obj: dict[str, Any]) -> None:
        with self._lock:
            if kind == "DELETED":
                self._remove(_okey(obj))
            elif not self._put(obj):
                return  # older than what our own write already stored
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(kind, obj)
            except Exception as exc:  # one bad mapping never stops the informer
                log.warning("informer_handler_failed", informer=str(self.key), error=f"{type(exc).__name__}: {exc}")

    def _put(self, obj: dict[str, Any]) -> bool:
        key = _okey(obj)
        old = self._objects.get(key)
        old_rv, new_rv = _rv(old), _rv(obj)
        if old_rv is not None and new_rv is not None and new_rv < old_rv:
            return False
        if old is not None:
            self._unindex(key, old)
        self._objects[key] = obj
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
            if isinstance(ref, dict) and ref.get("uid"):
                self._owned.setdefault(str(ref["uid"]), set()).add(key)
        return True

    def _remove(self, key: ObjKey) -> None:
        old = self._objects.pop(key, None)
        if old is not None:
            self._unindex(key, old)

    def _unindex(self, key: ObjKey, obj: dict[str, Any]) -> None:
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
            if isinstance(ref, dict) and ref.get("uid"):
                owned = self._owned.get(str(ref["uid"]))
                if owned is not None:
                    owned.discard(key)
                    if not owned:
                        del self._owned[str(ref["uid"])]

    def put(self, obj: dict[str, Any]) -> None:
        """Write-through: remember the answer to our own write unless a newer version is known."""
        with self._lock:
            self._put(obj)

    def evict(self, namespace: str, name: str) -> None:
        with self._lock:
            self._remove((namespace, name))

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._objects.get((namespace, name))

    def list(self, namespace: str | None = None, selector: Selector | None = None,
             owner_uid: str | None = None) -> Objects:
        with self._lock:
            if owner_uid is not None:
                objs = [self._objects[k] for k in self._owned.get(owner_uid, ()) if k in self._objects]
            else:
                objs = list(self._objects.values())
        if namespace:
            objs = [o for o in objs if _okey(o)[0] == namespace]
        if selector is not None:
            objs = [o for o in objs if selector.matches((o.get("metadata") or {}).get("labels") or {})]
        return objs

    def add_handler(self, handler: Handler, replay: bool = True) -> None:
        """Subscribe; with ``replay`` the objects already stored are delivered as ADDED first."""
        with self._lock:
            self._handlers.append(handler)
            existing = list(self._objects.values()) if replay else []
        for obj in existing:
            try:
                handler("ADDED", obj)
            except Exception as exc:
                log.warning("informer_handler_failed", informer=str(self.key), error=f"{type(exc).__name__}: {exc}")

    def remove_handler(self, handler: Handler) -> None:
        with self._lock:
            if handler in self._handlers:
                self._handlers.remove(handler)


class InformerCache:
    """Informers shared by every reconciler of one term, and reads through them."""

    def __init__(self, kube: KubeClient, *, silence_timeout: float = 300.0) -> None:
        self.kube = kube
        self.silence_timeout = silence_timeout
        self._informers: dict[InformerKey, Informer] = {}
        self._lock = threading.Lock()
        self._stopped = False
        self.hits = self.misses = 0

    # ------------------------------------------------------------------ informers

    def acquire(self, key: InformerKey, handler: Handler | None = None) -> Informer:
        """The informer for ``key`` (started on first use), with one more reference."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("the informer cache of this term is stopped")
            informer = self._informers.get(key)
            if informer is None:
                informer = self._informers[key] = Informer(key, self.kube, silence_timeout=self.silence_timeout)
                informer.start()
                log.debug("informer_started", informer=str(key))
            informer.refs += 1
        if handler is not None:
            informer.add_handler(handler)
        return informer

    def release(self, key: InformerKey, handler: Handler | None = None) -> None:
        """Drop one reference; the last one stops the informer."""
        with self._lock:
            informer = self._informers.get(key)
            if informer is None:
                return
            if handler is not None:
                informer.remove_handler(handler)
            informer.refs -= 1
            if informer.refs > 0:
                return
            del self._informers[key]
        informer.stop()
        log.debug("informer_stopped", informer=str(key))

    def informers(self) -> list[Informer]:
        with self._lock:
            return list(self._informers.values())

    def synced(self) -> bool:
        return all(i.synced for i in self.informers())

    def wait_for_sync(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.synced():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            informers, self._informers = list(self._informers.values()), {}
        for informer in informers:
            informer.stop()
        for informer in informers:
            informer.join(timeout=5.0)

    def health(self) -> tuple[bool, str]:
        """Every informer's watch thread is running (a restarting one is reported with its error)."""
        dead = [i for i in self.informers() if not i.alive]
        restarting = [i for i in self.informers() if i.restarts and i.alive]
        if dead:
            return False, "informer not running: " + ", ".join(str(i.key) for i in dead)
        if restarting:
            return True, "restarted: " + "; ".join(f"{i.key} x{i.restarts} ({i.last_error})" for i in restarting)
        return True, f"{len(self.informers())} informers running"

    # ------------------------------------------------------------------ reads and writes

    def _covering(self, api_version: str, plural: str, namespace: str | None) -> Informer | None:
        """A synced informer that holds every object of the resource in ``namespace`` (no selector)."""
        for informer in self.informers():
            k = informer.key
            if (k.api_version == api_version and k.plural == plural and k.label_selector is None
                    and k.covers(namespace) and informer.synced):
                return informer
        return None

    def get(self, api_version: str, plural: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The object, or None if it does not exist. A synced informer answers both without a request;
        otherwise one GET."""
        informer = self._covering(api_version, plural, namespace)
        if informer is not None:
            self.hits += 1
            return informer.get(namespace or "", name)
        self.misses += 1
        try:
            return self.kube.get(api_version, plural, name, namespace)
        except NotFound:
            return None

    def peek(self, api_version: str, plural: str, name: str,
             namespace: str | None = None) -> tuple[bool, dict[str, Any] | None]:
        """``(True, object or None)`` when a synced informer knows the answer, else ``(False, None)``
        (never a request)."""
        informer = self._covering(api_version, plural, namespace)
        if informer is None:
            return False, None
        return True, informer.get(namespace or "", name)

    def list(self, api_version: str, plural: str, namespace: str | None = None,
             label_selector: str | None = None, owner_uid: str | None = None) -> Objects:
        """Objects of the resource (in ``namespace``, matching ``label_selector``, owned by ``owner_uid``):
        from a synced informer that holds them all, else one paginated list."""
        selector = Selector.parse(label_selector) if label_selector else None
        informer = self._covering(api_version, plural, namespace)
        if informer is None:
            for candidate in self.informers():
                k = candidate.key
                if (k.api_version, k.plural, k.label_selector) == (api_version, plural, label_selector) \
                        and k.covers(namespace) and candidate.synced:
                    informer, selector = candidate, None
                    break
        if informer is not None:
            self.hits += 1
            return informer.list(namespace, selector, owner_uid)
        self.misses += 1
        objs = list(self.kube.list(api_version, plural, namespace=namespace, label_selector=label_selector))
        if owner_uid is not None:
            objs = [o for o in objs if any(isinstance(r, dict) and r.get("uid") == owner_uid
                                           for r in (o.get("metadata") or {}).get("ownerReferences") or ())]
        return objs

    def cached(self, api_version: str, plural: str) -> Objects:
        """Every object of the resource any informer holds (no request): e.g. to find objects whose
        desired state is gone."""
        found: dict[ObjKey, dict[str, Any]] = {}
        for informer in self.informers():
            if (informer.key.api_version, informer.key.plural) == (api_version, plural):
                for obj in informer.list():
                    found[_okey(obj)] = obj
        return list(found.values())

    def _holding(self, api_version: str, plural: str, obj: dict[str, Any]) -> Iterable[Informer]:
        namespace = _okey(obj)[0] or None
        labels = (obj.get("metadata") or {}).get("labels") or {}
        for informer in self.informers():
            k = informer.key
            if k.api_version == api_version and k.plural == plural and k.covers(namespace) and (
                    k.label_selector is None or Selector.parse(k.label_selector).matches(labels)):
                yield informer

    def put(self, api_version: str, plural: str, obj: dict[str, Any] | None) -> None:
        """Write-through of the answer to our own write (ignored when a newer version is known)."""
        if not obj or not (obj.get("metadata") or {}).get("name"):
            return
        for informer in self._holding(api_version, plural, obj):
            informer.put(obj)

    def evict(self, api_version: str, plural: str, name: str, namespace: str | None = None) -> None:
        """Forget an object the API server says is gone (a 404 on something the cache believed in)."""
        for informer in self.informers():
            k = informer.key
            if k.api_version == api_version and k.plural == plural and k.covers(namespace):
                informer.evict(namespace or "", name)


class CacheView:
    """``ControllerContext.cache``: reads through the current term's :class:`InformerCache`; between
    terms (not leading) through an empty one, so every read is a request and nothing is remembered."""

    def __init__(self, current: Callable[[], InformerCache | None], kube: KubeClient) -> None:
        self._current = current
        self._idle = InformerCache(kube)

    def _cache(self) -> InformerCache:
        return self._current() or self._idle

    def get(self, api_version: str, plural: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return self._cache().get(api_version, plural, name, namespace)

    def list(self, api_version: str, plural: str, namespace: str | None = None,
             label_selector: str | None = None, owner_uid: str | None = None) -> Objects:
        return self._cache().list(api_version, plural, namespace, label_selector, owner_uid)

    def cached(self, api_version: str, plural: str) -> Objects:
        return self._cache().cached(api_version, plural)

    def peek(self, api_version: str, plural: str, name: str,
             namespace: str | None = None) -> tuple[bool, dict[str, Any] | None]:
        return self._cache().peek(api_version, plural, name, namespace)

    def put(self, api_version: str, plural: str, obj: dict[str, Any] | None) -> None:
        self._cache().put(api_version, plural, obj)

    def evict(self, api_version: str, plural: str, name: str, namespace: str | None = None) -> None:
        self._cache().evict(api_version, plural, name, namespace)

    def wait_for_sync(self, timeout: float | None = None) -> bool:
        return self._cache().wait_for_sync(timeout)
