"""The object store of the API emulator: objects, resource versions, event history, watchers.

Owns every stored object of one emulated cluster, the global resourceVersion counter, sorted keys for
paging (``limit``/``continue``), the uid, owner-reference and per-namespace indexes the garbage
collector needs, the system namespaces a cluster starts with, and records every change in its
:class:`~nautilus_core.testing.history.EventLog`. What a write does to an object is decided by
``object_rules.py``, plus the ``hooks`` a resource type may have (CRDs and their custom resources,
``crd.py``); what a delete does (finalizers, garbage collection, graceful pods, namespace lifecycle
and its admission check on create) by ``deletion.py``; ``view`` shows an object in the version a
client asked for (CRD versions share their storage version's objects). Objects are immutable once
stored: every change builds a new dict (sharing unchanged subtrees with the old one), so readers
serialize them without copies and the history keeps old versions cheaply. All methods are thread-safe
(one RLock):
the HTTP layer (``handlers.py``, ``watch.py``) calls them on the emulator's event loop, tests call them
from their own thread through :class:`~nautilus_core.testing.KubeEmulator`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import random
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import orjson

from nautilus_core.testing import deletion
from nautilus_core.testing import status as st
from nautilus_core.testing.history import Event, EventLog, Subscriber
from nautilus_core.testing.object_rules import check_preconditions, new_object, updated_object
from nautilus_core.testing.resources import BUILTIN_RESOURCES, ResourceKey, ResourceType, split_api_version
from nautilus_core.testing.selectors import Matcher

Obj = dict[str, Any]
Objs = list[Obj]  # an alias: the method named ``list`` shadows the builtin inside the class
Key = tuple[str, str]  # (namespace or "", name)
Dependents = list[tuple[ResourceType, Obj]]
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


class TypeHooks(Protocol):
    """What a resource with its own write rules adds (CRDs and custom resources, see ``crd.py``)."""

    def prepare(self, rtype: ResourceType, obj: Obj, old: Obj | None, subresource: str | None) -> Obj:
        """The object to store (validated, pruned, defaulted); raises ApiError to refuse the write.

        ``obj`` has passed ``object_rules.py`` already (status sent on create is dropped there)."""

    def changed(self, rtype: ResourceType, obj: Obj, removed: bool) -> None:
        """Called under the store's lock after ``obj`` was stored or removed."""


class ObjectStore:
    """All objects of one emulated cluster; see the module docstring for the rules."""

    def __init__(self, history_size: int = 10_000) -> None:
        self.lock = threading.RLock()
        self._rv = 0
        self.events = EventLog(history_size)
        self._types: dict[ResourceKey, ResourceType] = {}
        self._aliases: dict[tuple[str, str], ResourceType] = {}
        self._objects: dict[ResourceKey, dict[tuple[str, str], Obj]] = {}
        self._sorted: dict[ResourceKey, list[tuple[str, str]]] = {}
        self._uids: dict[str, tuple[ResourceKey, Key]] = {}
        self._dependents: dict[str, set[tuple[ResourceKey, Key]]] = {}
        self._in_namespace: dict[str, int] = {}
        self._random = random.Random()
        self.kubelet_removes_pods = False  # set by a simulated cluster: its kubelet ends terminating pods
        self.hooks: dict[ResourceKey, TypeHooks] = {}  # by ResourceType.store_key
        for rtype in BUILTIN_RESOURCES:
            self.add_type(rtype)

    def seed_system_namespaces(self) -> None:
        """Create the namespaces every cluster starts with (default, kube-system, ...)."""
        ns_type = self._types[deletion.NAMESPACE_KEY]
        for name in SYSTEM_NAMESPACES:
            if ("", name) not in self._objects[ns_type.store_key]:
                self.create(ns_type, None, {"metadata": {"name": name}}, trusted=True)

    # -- resource types -------------------------------------------------------------------------

    def add_type(self, rtype: ResourceType) -> ResourceType:
        with self.lock:
            existing = self._types.get(rtype.key)
            if existing is not None and existing != rtype:
                raise ValueError(
                    f"resource {rtype.describe()}/{rtype.version} is already declared differently"
                )
            self._types[rtype.key] = rtype
            self._objects.setdefault(rtype.store_key, {})
            for alias in {rtype.kind, rtype.kind.lower(), rtype.plural, rtype.singular, *rtype.short_names}:
                if alias:
                    self._aliases[(rtype.api_version, alias)] = rtype
            return rtype

    def remove_type(self, rtype: ResourceType) -> None:
        """Stop serving one version of a resource (its objects stay while another version shares them)."""
        with self.lock:
            if self._types.get(rtype.key) is None:
                return
            del self._types[rtype.key]
            for alias, known in list(self._aliases.items()):
                if known.key == rtype.key:
                    del self._aliases[alias]
            if not any(other.store_key == rtype.store_key for other in self._types.values()):
                self._objects.pop(rtype.store_key, None)
                self._sorted.pop(rtype.store_key, None)

    def view(self, rtype: ResourceType, obj: Obj) -> Obj:
        """``obj`` as a client of ``rtype``'s version sees it (conversion strategy None)."""
        if rtype.storage and obj.get("apiVersion") != rtype.api_version:
            return {**obj, "apiVersion": rtype.api_version}
        return obj

    def types(self) -> list[ResourceType]:
        with self.lock:
            return list(self._types.values())

    def type_for_path(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._types.get((group, version, plural))

    def resolve(self, api_version: str, kind_or_plural: str) -> ResourceType:
        rtype = self._aliases.get((api_version, kind_or_plural)) or self._aliases.get(
            (api_version, kind_or_plural.lower())
        )
        if rtype is None:
            group, version = split_api_version(api_version)
            raise st.ApiError(
                404,
                "NotFound",
                f"the server doesn't have a resource type {kind_or_plural!r} in {group or 'core'}/{version}",
                {},
            )
        return rtype

    # -- versions, history, watchers --------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def history_floor(self) -> int:
        return self.events.floor

    def expire_history(self) -> int:
        """Forget every event so far: a watch from any older resourceVersion gets 410 Gone."""
        with self.lock:
            self.events.expire(self._rv)
            return self._rv

    def _record(self, kind: str, rtype: ResourceType, obj: Obj, old: Obj | None) -> None:
        self.events.record(Event(self._rv, kind, rtype.store_key, obj, old))

    def start_watch(
        self,
        rtype: ResourceType,
        since: int | None,
        loop: asyncio.AbstractEventLoop,
        namespace: str | None,
        matcher: Matcher | None,
    ) -> tuple[Subscriber, list[Event]]:
        """Register a watcher and return the events it must send first; 410 if ``since`` is too old."""
        with self.lock:
            if since is None:
                initial = [
                    Event(self._rv, "ADDED", rtype.store_key, obj, None)
                    for obj in self._iter(rtype, namespace, matcher)
                ]
            else:
                initial = self.events.since(rtype.store_key, since)
            return self.events.subscribe(rtype.store_key, loop), initial

    def stop_watch(self, watcher: Subscriber) -> None:
        with self.lock:
            self.events.unsubscribe(watcher)

    def close_watches(self, abort: bool = False) -> None:
        """End every live watch: cleanly (emulator stopping) or by cutting the connection (outage)."""
        with self.lock:
            self.events.close_all(self._rv, abort)

    # -- reads -------------------------------------------------------------------------------------

    def _keys(self, rtype: ResourceType) -> list[tuple[str, str]]:
        keys = self._sorted.get(rtype.store_key)
        if keys is None:
            keys = self._sorted[rtype.store_key] = sorted(self._objects[rtype.store_key])
        return keys

    def _range(self, keys: list[tuple[str, str]], namespace: str | None) -> tuple[int, int]:
        if not namespace:
            return 0, len(keys)
        return bisect_left(keys, (namespace,)), bisect_left(keys, (namespace + "\x00",))

    def _iter(self, rtype: ResourceType, namespace: str | None, matcher: Matcher | None) -> Iterator[Obj]:
        keys = self._keys(rtype)
        objects = self._objects[rtype.store_key]
        low, high = self._range(keys, namespace if rtype.namespaced else None)
        for index in range(low, high):
            obj = objects[keys[index]]
            if matcher is None or matcher(obj):
                yield self.view(rtype, obj)

    def get(self, rtype: ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self._objects[rtype.store_key].get(((namespace or "") if rtype.namespaced else "", name))
        if obj is None:
            raise st.not_found(rtype.plural, rtype.group, name)
        return self.view(rtype, obj)

    def list(
        self, rtype: ResourceType, namespace: str | None = None, matcher: Matcher | None = None
    ) -> list[Obj]:
        with self.lock:
            return list(self._iter(rtype, namespace, matcher))

    def all_objects(self) -> Iterator[tuple[ResourceType, Obj]]:
        with self.lock:
            by_store = {rtype.store_key: rtype for rtype in self._types.values()}
            snapshot = [(by_store[key], list(objs.values())) for key, objs in self._objects.items()]
        for rtype, objs in snapshot:
            for obj in objs:
                yield rtype, obj

    def list_page(
        self,
        rtype: ResourceType,
        namespace: str | None,
        matcher: Matcher | None,
        limit: int | None,
        token: str | None,
    ) -> tuple[Objs, int, str | None, int | None]:
        """One page: (items, list resourceVersion, continue token or None, remainingItemCount or None)."""
        with self.lock:
            keys = self._keys(rtype)
            objects = self._objects[rtype.store_key]
            low, high = self._range(keys, namespace if rtype.namespaced else None)
            if token:
                low = max(low, bisect_right(keys, _decode_continue(token)))
            items: Objs = []
            index = low
            while index < high and (not limit or len(items) < limit):
                obj = objects[keys[index]]
                index += 1
                if matcher is None or matcher(obj):
                    items.append(self.view(rtype, obj))
            more = False
            remaining: int | None = None
            if index < high and items:
                if matcher is None:
                    remaining = high - index
                    more = True
                else:
                    more = any(matcher(objects[keys[i]]) for i in range(index, high))
            cont = _encode_continue(self._rv, keys[index - 1]) if more else None
            return items, self._rv, cont, remaining

    # -- writes ------------------------------------------------------------------------------------

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _put(self, rtype: ResourceType, obj: Obj, old: Obj | None) -> None:
        """Store ``obj`` (replacing ``old``) and keep the uid, owner and namespace indexes."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        self._objects[rtype.store_key][key] = obj
        if old is None:
            self._sorted.pop(rtype.store_key, None)
            if key[0]:
                self._in_namespace[key[0]] = self._in_namespace.get(key[0], 0) + 1
        uid = meta.get("uid")
        if isinstance(uid, str):
            self._uids[uid] = (rtype.store_key, key)
        refs = meta.get("ownerReferences")
        old_refs = None if old is None else old["metadata"].get("ownerReferences")
        if refs is not old_refs:
            self._index_owners(old_refs, rtype.store_key, key, add=False)
            self._index_owners(refs, rtype.store_key, key, add=True)
        hooks = self.hooks.get(rtype.store_key)
        if hooks is not None:
            hooks.changed(rtype, obj, False)

    def _index_owners(self, refs: Any, rkey: ResourceKey, key: Key, add: bool) -> None:
        if not isinstance(refs, list):
            return
        for ref in refs:
            owner = ref.get("uid") if isinstance(ref, dict) else None
            if not isinstance(owner, str):
                continue
            if add:
                self._dependents.setdefault(owner, set()).add((rkey, key))
            elif owner in self._dependents:
                self._dependents[owner].discard((rkey, key))
                if not self._dependents[owner]:
                    del self._dependents[owner]

    def _remove(self, rtype: ResourceType, obj: Obj) -> Obj:
        """Remove an object for good (DELETED event), then let the garbage collector react."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        stored = self._objects[rtype.store_key].pop(key)
        self._sorted.pop(rtype.store_key, None)
        if key[0]:
            self._in_namespace[key[0]] -= 1
        self._uids.pop(stored["metadata"].get("uid"), None)
        self._index_owners(stored["metadata"].get("ownerReferences"), rtype.store_key, key, add=False)
        final = {**obj, "metadata": {**meta, "resourceVersion": self._next_rv()}}
        self._record("DELETED", rtype, final, stored)
        hooks = self.hooks.get(rtype.store_key)
        if hooks is not None:
            hooks.changed(rtype, final, True)
        deletion.after_removed(self, rtype, final)
        return final

    # -- lookups for the garbage collector (``deletion.py``) -------------------------------------

    def find(self, rtype: ResourceType, obj: Obj) -> Obj | None:
        """The stored version of ``obj`` (same key and uid), or None once it is gone."""
        meta = obj["metadata"]
        current = self._objects[rtype.store_key].get((meta.get("namespace", ""), meta["name"]))
        if current is None or current["metadata"].get("uid") != meta.get("uid"):
            return None
        return current

    def find_name(self, rkey: ResourceKey, namespace: str, name: str) -> Obj | None:
        return self._objects[rkey].get((namespace, name))

    def by_uid(self, uid: Any) -> tuple[ResourceType, Obj] | None:
        where = self._uids.get(uid) if isinstance(uid, str) else None
        if where is None:
            return None
        obj = self._objects[where[0]].get(where[1])
        return None if obj is None else (self._stored_type(where[0]), obj)

    def dependents(self, uid: str) -> Dependents:
        found = []
        for rkey, key in sorted(self._dependents.get(uid, ())):
            obj = self._objects[rkey].get(key)
            if obj is not None:
                found.append((self._stored_type(rkey), obj))
        return found

    def _stored_type(self, rkey: ResourceKey) -> ResourceType:
        """The type whose objects live under store key ``rkey`` (a CRD's storage version)."""
        rtype = self._types.get(rkey)
        if rtype is not None:
            return rtype
        return next(t for t in self._types.values() if t.store_key == rkey)

    def objects_in_namespace(self, namespace: str) -> int:
        return self._in_namespace.get(namespace, 0)

    def create(
        self,
        rtype: ResourceType,
        namespace: str | None,
        body: Obj,
        *,
        trusted: bool = False,
        dry_run: bool = False,
    ) -> Obj:
        """Store a new object; ``trusted`` (test code) keeps given uid, timestamps and status."""
        with self.lock:
            obj = new_object(rtype, namespace, body, trusted, self._random)
            hooks = self.hooks.get(rtype.store_key)
            if hooks is not None:
                obj = hooks.prepare(rtype, obj, None, None)
            meta = obj["metadata"]
            if rtype.namespaced and not trusted:
                deletion.check_namespace(self, meta["namespace"], rtype, meta["name"])
            if (meta.get("namespace", ""), meta["name"]) in self._objects[rtype.store_key]:
                raise st.already_exists(rtype.plural, rtype.group, meta["name"])
            if dry_run:
                meta["resourceVersion"] = str(self._rv)
                return obj
            meta["resourceVersion"] = self._next_rv()
            self._put(rtype, obj, None)
            self._record("ADDED", rtype, obj, None)
            return obj

    def update(
        self,
        rtype: ResourceType,
        namespace: str | None,
        name: str,
        new: Obj,
        *,
        subresource: str | None = None,
        trusted: bool = False,
        dry_run: bool = False,
    ) -> Obj:
        """Replace an object (PUT semantics; the status subresource only takes ``status``).

        An update that changes nothing is not written (no new resourceVersion, no event), like on a
        real server; one that removes the last finalizer of an object marked for deletion deletes it.
        """
        with self.lock:
            old = self.get(rtype, namespace, name)
            result = updated_object(rtype, old, new, subresource, trusted)
            hooks = self.hooks.get(rtype.store_key)
            if hooks is not None:
                result = hooks.prepare(rtype, result, old, subresource)
            if result == old:
                return old
            if dry_run:
                return result
            result["metadata"]["resourceVersion"] = self._next_rv()
            self._put(rtype, result, old)
            self._record("MODIFIED", rtype, result, old)
            if result["metadata"].get("deletionTimestamp") and not result["metadata"].get("finalizers"):
                return self._remove(rtype, result)
            return result

    def delete(
        self,
        rtype: ResourceType,
        namespace: str | None,
        name: str,
        *,
        preconditions: dict[str, Any] | None = None,
        dry_run: bool = False,
        propagation: str | None = None,
        grace: int | None = None,
    ) -> tuple[Obj, bool]:
        """Delete as the real server and its controllers do (``deletion.py``); returns (answer, removed).

        ``propagation``: Background, Foreground or Orphan (None: the kind's default); ``grace``: the
        pod grace period in seconds (None: the pod's own).
        """
        with self.lock:
            obj = self.get(rtype, namespace, name)
            check_preconditions(rtype, obj, preconditions)
            if dry_run:
                return obj, not obj["metadata"].get("finalizers")
            return deletion.delete(self, rtype, obj, propagation, grace)

    def load(self, objects: Iterable[Obj]) -> int:
        """Bulk-create trusted objects (test fixtures, fleet generator) under one lock; returns the count."""
        count = 0
        with self.lock:
            for obj in objects:
                rtype = self.resolve(obj.get("apiVersion", ""), obj.get("kind", ""))
                self.create(rtype, None, obj, trusted=True)
                count += 1
        return count


def _encode_continue(rv: int, key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"rv": rv, "start": list(key)})).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        namespace, name = data["start"]
        return (str(namespace), str(name))
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise st.bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        ) from None
